package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// TestWebConfigFileEndToEnd runs the exporter with --web.config.file: TLS with a generated
// certificate and basic auth with a bcrypt hash, as SECURITY.md recommends for exposure.
func TestWebConfigFileEndToEnd(t *testing.T) {
	const user, pass = "prometheus", "Scrape-Pa55-word"
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}})

	cert, certPEM, err := simulator.GenerateCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("web-cert.pem", certPEM)
	write("web-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	webCfg := write("web.yml", fmt.Appendf(nil, "tls_server_config:\n  cert_file: web-cert.pem\n  key_file: web-key.pem\nbasic_auth_users:\n  %s: %s\n", user, hash))

	exp := startExporter(t, cfg, "--web.config.file="+webCfg)
	base := strings.Replace(exp.url, "http://", "https://", 1)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(client.CloseIdleConnections)

	get := func(c *http.Client, u, user, pass string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/metrics", "/", "/-/healthy"} {
		if code, _ := get(client, base+path, "", ""); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials = %d, want 401", path, code)
		}
	}
	if code, _ := get(client, base+"/metrics", user, "wrong-"+pass); code != http.StatusUnauthorized {
		t.Errorf("wrong password = %d, want 401", code)
	}
	if code, _ := get(client, base+"/metrics", "admin", pass); code != http.StatusUnauthorized {
		t.Errorf("wrong user = %d, want 401", code)
	}
	code, body := get(client, base+"/metrics", user, pass)
	if code != http.StatusOK || !strings.Contains(body, `vb365_up{server="prod"} 1`) {
		t.Errorf("with credentials = %d:\n%s", code, body)
	}
	// Plain HTTP on the TLS port gets no metrics.
	if code, body := get(http.DefaultClient, exp.url+"/metrics", user, pass); code == http.StatusOK || strings.Contains(body, "vb365_up") {
		t.Errorf("plain HTTP = %d with metrics", code)
	}
	// A client that does not trust the certificate does not get through.
	if _, err := (&http.Client{}).Get(base + "/metrics"); err == nil {
		t.Error("a client without the CA connected")
	}
	exp.stop()
	if logs := exp.logs.String(); strings.Contains(logs, pass) || strings.Contains(logs, string(hash)) {
		t.Errorf("the basic auth password or hash is logged:\n%s", logs)
	}
}

// TestNoTargetTakenFromRequest: whatever a request asks, the exporter only contacts the URLs
// of its config file. A multi-target style parameter must not turn it into an SSRF proxy.
func TestNoTargetTakenFromRequest(t *testing.T) {
	var hits atomic.Int64
	bait := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(bait.Close)
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}, extra: "    cache_ttl: 0s\n"})
	exp := startExporter(t, cfg)
	baitHost := strings.TrimPrefix(bait.URL, "http://")
	q := url.QueryEscape(bait.URL)
	before := sim.sim.Stats().Total
	for _, path := range []string{
		"/metrics?target=" + q,
		"/metrics?url=" + q + "&server=prod",
		"/metrics?server=" + q,
		"/probe?target=" + q,
		"/probe?server=prod&url=" + q,
		"/probe?module=prod&target=" + baitHost,
		"/?target=" + q,
		"/sessions?server=prod&url=" + q,
	} {
		req, _ := http.NewRequest(http.MethodGet, exp.url+path, nil)
		req.Header.Set("X-Forwarded-Host", baitHost)
		req.Header.Set("Forwarded", "host="+baitHost)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the exporter sent %d requests to a URL taken from a request", n)
	}
	if sim.sim.Stats().Total == before {
		t.Error("the scrapes did not reach the configured server at all; the test proves nothing")
	}
}

// TestNoSecretsInConfigErrors: a broken config that holds a password must not print it,
// whether the error comes from --config.check, the start, or a reload.
func TestNoSecretsInConfigErrors(t *testing.T) {
	const secret = "Pa55-In-Config-0f-Exporter"
	server := func(lines string) string {
		return "servers:\n  - name: prod\n    url: https://vb365.example.local:4443\n    username: u\n" + lines
	}
	cases := map[string]string{
		"unknown key":              server("    password: " + secret + "\n    sesions: []\n"),
		"password also in url":     server("    password: " + secret + "\n    timeout: " + secret + "\n"),
		"password in url userinfo": "servers:\n  - name: prod\n    url: https://u:" + secret + "@vb365:4443\n    username: u\n    password: " + secret + "\n",
		"password as session id":   server("    password: " + secret + "\n    sessions: [" + secret + "]\n"),
		"password file and inline": server("    password: " + secret + "\n    password_file: pw\n"),
		"password as name":         "servers:\n  - name: " + secret + "\n    url: ftp://x\n    username: u\n    password: " + secret + "\n",
		"quoted password":          server("    password: \"" + secret + "\\\"\"\n    max_concurrent_requests: \"" + secret + "\\\"\"\n"),
		"password file content":    server("    password_file: pw\n    api_version: " + secret + "\n"),
		"tls key inline":           server("    password: x\n    tls_config:\n      key: " + secret + "\n"),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(secret+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "config.yml")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"--config.check", "--config.file=" + path}, &out, &errOut); code != 1 {
				t.Fatalf("--config.check = %d, want 1:\n%s%s", code, out.String(), errOut.String())
			}
			var startOut bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if code := run(ctx, []string{"--config.file=" + path, "--web.listen-address=127.0.0.1:0", "--log.level=debug"}, io.Discard, &startOut); code != 1 {
				t.Fatalf("start with a bad config = %d, want 1", code)
			}
			all := out.String() + errOut.String() + startOut.String()
			if strings.Contains(all, secret) {
				t.Errorf("the password is printed:\n%s", all)
			}
			if !strings.Contains(errOut.String(), "FAILED") {
				t.Errorf("--config.check gave no error:\n%s", errOut.String())
			}
		})
	}

	// Reload: the HTTP answer and the log.
	sim := startSim(t, simulator.Options{})
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serverSpec{name: "prod", sim: sim})
	exp := startExporter(t, cfg)
	if err := os.WriteFile(cfg, []byte(cases["password as session id"]), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(exp.url+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("bad reload = %d", resp.StatusCode)
	}
	metrics := scrape(t, exp.url+"/metrics", nil).body
	if s := string(body) + exp.logs.String() + metrics; strings.Contains(s, secret) || strings.Contains(s, simPassword) {
		t.Errorf("a password is shown by a failed reload:\n%s", s)
	}
}

// TestNoSecretsUnderFaults: at debug level, through revocations, refused logins and a server
// that echoes the password and the token in its error messages, neither reaches the logs,
// /metrics or the landing page.
func TestNoSecretsUnderFaults(t *testing.T) {
	const wrongPassword = "Wrong-But-Still-Secret-9"
	echo := func(sim *simServer, password string) {
		sim.spy.setRewrite(func(path string, body []byte) []byte {
			if !bytes.Contains(body, []byte(`"message":"`)) {
				return body
			}
			leak := "echo password=" + password
			if toks := sim.spy.issued(); len(toks) >= 2 {
				leak += " access=" + toks[len(toks)-2] + " refresh=" + toks[len(toks)-1]
			}
			return bytes.Replace(body, []byte(`"message":"`), []byte(`"message":"`+leak+` `), 1)
		})
	}
	good := startSim(t, simulator.Options{})
	good.sim.LoadDemoData()
	echo(good, simPassword)
	bad := startSim(t, simulator.Options{})
	echo(bad, wrongPassword)
	cfg := writeConfig(t, t.TempDir(),
		serverSpec{name: "good", sim: good, sessions: append(simulator.DemoSessionIDs(), unknownID), extra: "    cache_ttl: 0s\n"},
		serverSpec{name: "bad", sim: bad, password: wrongPassword, sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg) // --log.level=debug
	var pages strings.Builder
	get := func(path string) {
		resp, err := http.Get(exp.url + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(&pages, resp.Body)
		resp.Body.Close()
	}
	get("/metrics")
	for _, f := range []simulator.Fault{
		{Endpoint: simulator.EndpointSession, Kind: simulator.FaultUnauthorized, Count: 1},
		{Endpoint: simulator.EndpointSession, SessionID: simulator.DemoFailedID, Kind: simulator.FaultStatus, Status: 500},
		{Endpoint: simulator.EndpointSession, SessionID: simulator.DemoWarningID, Kind: simulator.FaultMalformed},
	} {
		if err := good.sim.SetFault(f); err != nil {
			t.Fatal(err)
		}
	}
	get("/metrics")
	get("/")
	good.sim.RevokeTokens()
	get("/metrics")
	exp.stop()
	logs := exp.logs.String()
	everything := logs + pages.String()
	for _, secret := range append([]string{simPassword, wrongPassword}, append(good.spy.issued(), bad.spy.issued()...)...) {
		if strings.Contains(everything, secret) {
			t.Errorf("secret %.4s… appears in logs or pages", secret)
		}
	}
	// The echo did reach the exporter, masked: otherwise this test proves nothing.
	if !strings.Contains(logs, "echo password=<secret>") {
		t.Errorf("no masked echo in the logs:\n%s", logs)
	}
	if !strings.Contains(logs, "level=debug") && !strings.Contains(logs, "level=warn") {
		t.Errorf("no logs captured:\n%s", logs)
	}
}
