package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rawGet uses a fresh connection per request: Go's transport silently retries idempotent
// requests whose reused connection breaks, which would hide the faults under test.
func (e *env) rawGet(ctx context.Context, path, tok string) (*http.Response, []byte, error) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func faultEnv(t *testing.T, f Fault) (*env, string) {
	t.Helper()
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v8").AccessToken
	if err := e.sim.SetFault(f); err != nil {
		t.Fatal(err)
	}
	return e, tok
}

const refPath = "/v8/DataRetrievalSessions/" + ReferenceSessionID

func (e *env) faultCount() int {
	e.sim.mu.Lock()
	defer e.sim.mu.Unlock()
	return len(e.sim.faults)
}

func TestFaultLatency(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointSession, Kind: FaultLatency, Latency: time.Hour, Count: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := e.rawGet(ctx, refPath, tok); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a request delayed by an hour did not time out: %v", err)
	}
	if err := e.sim.SetFault(Fault{Endpoint: EndpointSession, Kind: FaultLatency, Latency: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	// A short delay still answers normally.
	resp, body, err := e.rawGet(context.Background(), refPath, tok)
	if err != nil || resp.StatusCode != http.StatusOK || decodeMap(t, body)["id"] != ReferenceSessionID {
		t.Fatalf("delayed answer: %v %v %s", err, resp, body)
	}
}

func TestFaultStall(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointSession, Kind: FaultStall})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := e.rawGet(ctx, refPath, tok); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stalled request: %v", err)
	}
	// ClearFaults lets a stalled request finish normally. A counted stall shows when the
	// request has reached it: the fault is used up.
	e.sim.ClearFaults()
	if err := e.sim.SetFault(Fault{Endpoint: EndpointSession, Kind: FaultStall, Count: 1}); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		resp, _, err := e.rawGet(context.Background(), refPath, tok)
		if err != nil {
			done <- -1
			return
		}
		done <- resp.StatusCode
	}()
	for e.faultCount() != 0 {
		time.Sleep(time.Millisecond)
	}
	e.sim.ClearFaults()
	if code := <-done; code != http.StatusOK {
		t.Errorf("released request answered %d", code)
	}
}

func TestFaultStatusAndRateLimit(t *testing.T) {
	for _, tc := range []struct {
		f          Fault
		status     int
		retryAfter string
	}{
		{Fault{Endpoint: EndpointSession, Kind: FaultStatus}, 500, ""},
		{Fault{Endpoint: EndpointSession, Kind: FaultStatus, Status: 503, RetryAfter: 1500 * time.Millisecond}, 503, "2"},
		{Fault{Endpoint: EndpointSession, Kind: FaultRateLimit}, 429, "1"},
		{Fault{Endpoint: EndpointSession, Kind: FaultRateLimit, RetryAfter: 30 * time.Second}, 429, "30"},
	} {
		e, tok := faultEnv(t, tc.f)
		r := e.get(refPath, tok)
		if r.status != tc.status || r.header.Get("Retry-After") != tc.retryAfter {
			t.Errorf("%+v: %d Retry-After=%q", tc.f, r.status, r.header.Get("Retry-After"))
		}
		doc := loadOpenAPI(t, "v8")
		v := &validator{doc: doc}
		if errs := v.validateJSON(doc.Components.Schemas["RESTExceptionInfo"], r.body); len(errs) != 0 {
			t.Errorf("%+v: error body %s: %v", tc.f, r.body, errs)
		}
	}
}

func TestFaultBrokenBodies(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointSession, Kind: FaultMalformed, Count: 1})
	r := e.get(refPath, tok)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != jsonContentType || json.Valid(r.body) {
		t.Errorf("malformed: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}

	if err := e.sim.SetFault(Fault{Endpoint: EndpointSession, Kind: FaultNonJSON, Count: 1}); err != nil {
		t.Fatal(err)
	}
	r = e.get(refPath, tok)
	if r.status != http.StatusBadGateway || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.HasPrefix(string(r.body), "<!DOCTYPE html>") || json.Valid(r.body) {
		t.Errorf("nonjson: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if err := e.sim.SetFault(Fault{Endpoint: EndpointSession, Kind: FaultNonJSON, Status: 200, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if r = e.get(refPath, tok); r.status != http.StatusOK || json.Valid(r.body) {
		t.Errorf("nonjson with status 200: %d", r.status)
	}

	if err := e.sim.SetFault(Fault{Endpoint: EndpointSession, Kind: FaultTruncated, Count: 1}); err != nil {
		t.Fatal(err)
	}
	resp, body, err := e.rawGet(context.Background(), refPath, tok)
	if !errors.Is(err, io.ErrUnexpectedEOF) || resp.StatusCode != http.StatusOK {
		t.Errorf("truncated: err %v", err)
	}
	if !strings.HasPrefix(string(body), `{"id":"`+ReferenceSessionID+`"`) || json.Valid(body) {
		t.Errorf("truncated body does not start like the real one: %q", body)
	}

	// With the counted faults used up the real answer is back.
	if r = e.get(refPath, tok); r.status != http.StatusOK || !json.Valid(r.body) {
		t.Errorf("after faults: %d %s", r.status, r.body)
	}
}

func TestFaultHuge(t *testing.T) {
	const size = 8 << 20
	e, tok := faultEnv(t, Fault{Endpoint: EndpointList, Kind: FaultHuge, Bytes: size})
	resp, body, err := e.rawGet(context.Background(), "/v8/DataRetrievalSessions", tok)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("huge: %v", err)
	}
	if len(body) != size || !json.Valid(body) {
		t.Errorf("huge body: %d bytes, valid JSON %v", len(body), json.Valid(body))
	}
	if resp.ContentLength != -1 {
		t.Errorf("huge body should be streamed without Content-Length, got %d", resp.ContentLength)
	}
	if DefaultHugeBytes < 32<<20 {
		t.Errorf("default huge body is only %d bytes", DefaultHugeBytes)
	}
}

func TestFaultUnauthorizedRevokesToken(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointSession, Kind: FaultUnauthorized, Count: 1})
	if r := e.get(refPath, tok); r.status != http.StatusUnauthorized {
		t.Fatalf("unauthorized fault: %d", r.status)
	}
	if r := e.get("/v8/DataRetrievals", tok); r.status != http.StatusUnauthorized {
		t.Errorf("token still valid after the unauthorized fault: %d", r.status)
	}
	if r := e.get(refPath, e.login("v8").AccessToken); r.status != http.StatusOK {
		t.Errorf("a new token answered %d", r.status)
	}
}

func TestFaultReset(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointSession, Kind: FaultReset, Count: 1})
	if _, _, err := e.rawGet(context.Background(), refPath, tok); err == nil {
		t.Fatal("reset connection gave an answer")
	}
	// The client sees the closed connection before the handler returns and counts it, so
	// wait for the count rather than read it at once.
	deadline := time.Now().Add(5 * time.Second)
	for e.sim.Stats().ByStatus[0] != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := e.sim.Stats(); st.ByStatus[0] != 1 {
		t.Errorf("reset not counted as unanswered: %v", st.ByStatus)
	}
	if resp, _, err := e.rawGet(context.Background(), refPath, tok); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("after reset: %v", err)
	}
}

func TestFaultMatching(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointSession, SessionID: strings.ToUpper(DemoFailedID), Kind: FaultStatus, Status: 500, Count: 2})
	if s := e.get(refPath, tok).status; s != http.StatusOK {
		t.Errorf("other session hit by the fault: %d", s)
	}
	if s := e.get("/v8/DataRetrievalSessions", tok).status; s != http.StatusOK {
		t.Errorf("list hit by a session fault: %d", s)
	}
	for i := 0; i < 2; i++ {
		if s := e.get("/v8/DataRetrievalSessions/"+DemoFailedID, tok).status; s != 500 {
			t.Errorf("request %d: %d, want 500", i, s)
		}
	}
	if s := e.get("/v8/DataRetrievalSessions/"+DemoFailedID, tok).status; s != http.StatusOK {
		t.Errorf("fault outlived its count: %d", s)
	}

	// "*" covers the token endpoint too; the first matching fault wins.
	for _, f := range []Fault{{Endpoint: EndpointAny, Kind: FaultStatus, Status: 503}, {Endpoint: EndpointToken, Kind: FaultRateLimit}} {
		if err := e.sim.SetFault(f); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.do(http.MethodPost, "/v8/token", "", "application/x-www-form-urlencoded", "grant_type=password"); r.status != 503 {
		t.Errorf("token with * fault: %d", r.status)
	}
	e.sim.ClearFaults()
	if s := e.get("/v8/DataRetrievals", tok).status; s != http.StatusOK {
		t.Errorf("after ClearFaults: %d", s)
	}

	for _, bad := range []Fault{{Endpoint: "tenants", Kind: FaultStall}, {Endpoint: EndpointJobs, JobID: "x", Kind: FaultStall}, {Endpoint: EndpointAny, Kind: "explode"},
		{Endpoint: EndpointSession, SessionID: "x", Kind: FaultStall}, {Endpoint: EndpointAny, Kind: FaultStatus, Status: 42},
		{Endpoint: EndpointAny, Kind: FaultLatency, Latency: -time.Second}} {
		if err := e.sim.SetFault(bad); err == nil {
			t.Errorf("invalid fault %+v accepted", bad)
		}
	}
}

func TestFaultRedirect(t *testing.T) {
	const loc = "http://127.0.0.1:1/v8/token?next=1"
	e, tok := faultEnv(t, Fault{Endpoint: EndpointSession, Kind: FaultRedirect, Location: loc})
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+refPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != loc {
		t.Errorf("redirect fault: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, bad := range []Fault{{Endpoint: EndpointToken, Kind: FaultRedirect}, {Endpoint: EndpointToken, Kind: FaultRedirect, Location: "/v8/token"}} {
		if err := e.sim.SetFault(bad); err == nil {
			t.Errorf("redirect without an absolute location accepted: %+v", bad)
		}
	}
}

func TestFaultEcho(t *testing.T) {
	e, _ := faultEnv(t, Fault{Endpoint: EndpointToken, Kind: FaultEcho})
	r := e.do(http.MethodPost, "/v8/token", "", "application/x-www-form-urlencoded", "grant_type=password&password=a%24b+c")
	var body struct{ Message, ErrorCode string }
	mustJSON(t, r.body, &body)
	if r.status != http.StatusBadRequest || !strings.Contains(body.Message, "password=a%24b+c") || body.ErrorCode != body.Message {
		t.Errorf("echo fault: %d %s", r.status, r.body)
	}
}

func TestFaultTokenAnswer(t *testing.T) {
	for _, tc := range []struct {
		value string
		check func(m map[string]any) bool
	}{
		{`"3600"`, func(m map[string]any) bool { return m["expires_in"] == "3600" && m["access_token"] != nil }},
		{`1e12`, func(m map[string]any) bool { return m["expires_in"] == 1e12 }},
		{``, func(m map[string]any) bool { _, ok := m["expires_in"]; return !ok && m["access_token"] != nil }},
	} {
		e, _ := faultEnv(t, Fault{Endpoint: EndpointToken, Kind: FaultTokenAnswer, Field: "expires_in", Value: tc.value, Count: 1})
		form := url.Values{"grant_type": {"password"}, "username": {testUser}, "password": {testPassword}}
		r := e.tokenRequest("v8", form)
		var m map[string]any
		mustJSON(t, r.body, &m)
		if r.status != http.StatusOK || !tc.check(m) {
			t.Errorf("value %q: %d %s", tc.value, r.status, r.body)
		}
	}
	e := newEnv(t, nil)
	for _, bad := range []Fault{{Endpoint: EndpointSession, Kind: FaultTokenAnswer, Field: "x"},
		{Endpoint: EndpointToken, Kind: FaultTokenAnswer}, {Endpoint: EndpointToken, Kind: FaultTokenAnswer, Field: "x", Value: "{"}} {
		if err := e.sim.SetFault(bad); err == nil {
			t.Errorf("invalid fault %+v accepted", bad)
		}
	}
}

// The admin API carries the fields of the redirect and tokenanswer faults.
func TestTrustFaultsViaAdmin(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Admin = true })
	if r := e.do(http.MethodPost, "/admin/faults", "", "application/json", `{"endpoint":"token","kind":"tokenanswer","field":"expires_in","value":"1","count":1}`); r.status != http.StatusNoContent {
		t.Fatalf("add tokenanswer fault: %d %s", r.status, r.body)
	}
	if a := e.login("v8"); a.ExpiresIn != 1 {
		t.Errorf("expires_in = %d, want 1", a.ExpiresIn)
	}
	if r := e.do(http.MethodPost, "/admin/faults", "", "application/json", `{"endpoint":"token","kind":"redirect","location":"http://127.0.0.1:1/x","status":308}`); r.status != http.StatusNoContent {
		t.Fatalf("add redirect fault: %d %s", r.status, r.body)
	}
	if r := e.postTokenNoRedirect(t); r.StatusCode != http.StatusPermanentRedirect || r.Header.Get("Location") != "http://127.0.0.1:1/x" {
		t.Errorf("redirect via admin: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

// postTokenNoRedirect posts a token request without following redirects.
func (e *env) postTokenNoRedirect(t *testing.T) *http.Response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer c.CloseIdleConnections()
	resp, err := c.Post(e.srv.URL+"/v8/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=password"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
