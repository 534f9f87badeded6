package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	code, body := reload(t, exp)
	if code != http.StatusInternalServerError {
		t.Errorf("bad reload = %d", code)
	}
	metrics := scrape(t, exp.url+"/metrics", nil).body
	if s := body + exp.logs.String() + metrics; strings.Contains(s, secret) || strings.Contains(s, simPassword) {
		t.Errorf("a password is shown by a failed reload:\n%s", s)
	}
}

// echoServer plays a server that echoes the request's secrets (password, bearer token,
// refresh token) in its error messages, and remembers every token it saw issued.
type echoServer struct {
	next   http.Handler
	mu     sync.Mutex
	tokens []string
}

func (e *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	leak := "echo"
	for _, k := range []string{"password", "refresh_token"} {
		if v := r.PostForm.Get(k); v != "" {
			leak += " " + k + "=" + v
		}
	}
	if b := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); b != "" {
		leak += " bearer=" + b
	}
	rec := httptest.NewRecorder()
	e.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var tok struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if json.Unmarshal(body, &tok) == nil && tok.Access != "" {
		e.mu.Lock()
		e.tokens = append(e.tokens, tok.Access, tok.Refresh)
		e.mu.Unlock()
	}
	body = bytes.Replace(body, []byte(`"message":"`), []byte(`"message":"`+leak+` `), 1)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

func (e *echoServer) issued() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.tokens...)
}

// TestNoSecretsUnderFaults: at debug level, through revocations, refused logins and a server
// that echoes the password and the tokens in its error messages, none of them reaches the
// logs, /metrics or the landing page.
func TestNoSecretsUnderFaults(t *testing.T) {
	const wrongPassword = "Wrong-But-Still-Secret-9"
	var echoes []*echoServer
	wrap := func(h http.Handler) http.Handler {
		e := &echoServer{next: h}
		echoes = append(echoes, e)
		return e
	}
	good := startRawSim(t, rawSim{wrap: wrap})
	bad := startRawSim(t, rawSim{wrap: wrap})
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
	secrets := []string{simPassword, wrongPassword}
	for _, e := range echoes {
		secrets = append(secrets, e.issued()...)
	}
	if len(secrets) < 4 {
		t.Fatal("no token was issued; the test proves nothing")
	}
	for _, secret := range secrets {
		if strings.Contains(everything, secret) {
			t.Errorf("secret %.4s… appears in logs or pages", secret)
		}
	}
	// The echoes did reach the exporter, masked: otherwise this test proves nothing.
	for _, want := range []string{"echo password=<secret>", "bearer=<secret>"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no %q in the logs:\n%s", want, logs)
		}
	}
}
