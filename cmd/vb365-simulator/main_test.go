package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the simulator and returns its printed URL and a stop function returning the exit code.
func start(t *testing.T, args ...string) (string, *safeBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &safeBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, args, pw, stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no URL printed: %v; stderr:\n%s", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var once sync.Once
	var rc int
	stop := func() int {
		once.Do(func() {
			cancel()
			rc = <-code
		})
		return rc
	}
	t.Cleanup(func() { stop() })
	return strings.TrimSpace(line), stderr, stop
}

func TestRunServesTLSWithDemoDataAndAdmin(t *testing.T) {
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	pwFile := filepath.Join(dir, "password")
	const password = "file-password-123"
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stderr, stop := start(t, "--listen-address=127.0.0.1:0", "--tls=true", "--tls.ca-out="+caFile,
		"--username=VB365\\mon", "--password-file="+pwFile, "--demo", "--admin", "--end-time-style=null", "--token-lifetime=5m")
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("printed URL %q", base)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca-out is not a PEM certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()

	resp, err := client.PostForm(base+"/v8/token", url.Values{"grant_type": {"password"}, "username": {`VB365\mon`}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || tok.ExpiresIn != 300 {
		t.Fatalf("login: %d %v %+v", resp.StatusCode, err, tok)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/v8/DataRetrievalSessions/"+simulator.DemoRunningSuccessID, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"endTime":null`) {
		t.Errorf("demo running session: %d %s", resp.StatusCode, body)
	}

	// --demo also loads the installation: the Failed job is there, with its running neighbour.
	req, _ = http.NewRequest(http.MethodGet, base+"/v8/Jobs/"+simulator.DemoJobFailedID, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"lastStatus":"Failed"`) {
		t.Errorf("demo job: %d %s", resp.StatusCode, body)
	}

	resp, err = client.Get(base + "/admin/stats")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"tokensIssued":1`) {
		t.Errorf("admin stats: %d %s", resp.StatusCode, body)
	}

	if rc := stop(); rc != 0 {
		t.Errorf("exit code %d", rc)
	}
	logs := stderr.String()
	if strings.Contains(logs, password) || strings.Contains(logs, tok.AccessToken) {
		t.Errorf("logs leak a secret:\n%s", logs)
	}
	if !strings.Contains(logs, "listening") || !strings.Contains(logs, "shutting down") {
		t.Errorf("logs lack start or stop:\n%s", logs)
	}
}

func TestRunPlainHTTPWithDefaults(t *testing.T) {
	base, stderr, stop := start(t, "--listen-address=127.0.0.1:0", "--tls=false")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("printed URL %q", base)
	}
	resp, err := http.PostForm(base+"/v6/token", url.Values{"grant_type": {"password"}, "username": {`vb365\monitoring`}, "password": {demoPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("default credentials: %d", resp.StatusCode)
	}
	// Without --admin the control API does not exist.
	resp, err = http.Get(base + "/admin/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("admin without --admin: %d", resp.StatusCode)
	}
	if rc := stop(); rc != 0 {
		t.Errorf("exit code %d", rc)
	}
	if strings.Contains(stderr.String(), demoPassword) {
		t.Errorf("logs show the demo password:\n%s", stderr.String())
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"both passwords":   {"--password=a", "--password-file=" + empty},
		"empty pw file":    {"--password-file=" + empty},
		"missing pw file":  {"--password-file=" + filepath.Join(dir, "nope")},
		"bad style":        {"--end-time-style=never"},
		"bad duration":     {"--token-lifetime=soon"},
		"unknown flag":     {"--frobnicate"},
		"bad listen value": {"--listen-address=not-an-address"},
	} {
		var stdout, stderr bytes.Buffer
		if rc := run(context.Background(), args, &stdout, &stderr); rc == 0 {
			t.Errorf("%s: exit code 0", name)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: printed %q", name, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if rc := run(context.Background(), []string{"--help"}, &stdout, &stderr); rc != 0 || !strings.Contains(stderr.String(), "--listen-address") {
		t.Errorf("--help: %d %s", rc, stderr.String())
	}
}
