package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testUser     = `EXAMPLE\monitoring`
	testPassword = "s3cret-pw"
)

var versions = []string{"v6", "v7", "v8"}

// fakeClock is the injected clock; tests move it instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	sim   *Simulator
	srv   *httptest.Server
	clock *fakeClock
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.FixedZone("", 2*60*60))}
	opts := Options{Username: testUser, Password: testPassword, Now: clock.Now}
	if mod != nil {
		mod(&opts)
	}
	sim := New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		sim.ClearFaults()
		srv.Close()
	})
	return &env{t: t, sim: sim, srv: srv, clock: clock}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(method, path, tok, contentType, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) get(path, tok string) response {
	e.t.Helper()
	return e.do(http.MethodGet, path, tok, "", "")
}

func (e *env) tokenRequest(ver string, form url.Values) response {
	e.t.Helper()
	return e.do(http.MethodPost, "/"+ver+"/token", "", "application/x-www-form-urlencoded", form.Encode())
}

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	UserName     string `json:"userName"`
	Issued       string `json:".issued"`
	Expires      string `json:".expires"`
}

func (e *env) login(ver string) tokenAnswer {
	e.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {testUser}, "password": {testPassword}}
	if ver != "v6" {
		form.Set("disable_antiforgery_token", "true")
	}
	r := e.tokenRequest(ver, form)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s login: %d %s", ver, r.status, r.body)
	}
	var a tokenAnswer
	mustJSON(e.t, r.body, &a)
	return a
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	mustJSON(t, b, &m)
	return m
}

// admin sends an admin API request that must answer want, and decodes its answer if any.
func (e *env) admin(method, path, body string, want int) map[string]any {
	e.t.Helper()
	r := e.do(method, path, "", "application/json", body)
	if r.status != want {
		e.t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	return decodeMap(e.t, r.body)
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
