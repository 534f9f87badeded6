package vb365

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testUser     = `EXAMPLE\monitoring`
	testPassword = "s3cr3t-Pa55word"
)

// fakeAPI is a deliberately small stand-in for the token and session endpoints, so the
// client's token lifecycle can be checked request by request. The simulator package covers
// the full API.
type fakeAPI struct {
	mu          sync.Mutex
	tokenForms  []map[string]string
	tokens      map[string]bool
	refreshes   map[string]bool
	issued      int
	expiresIn   int
	reject401   int // answer this many data calls with 401 even with a valid token
	inFlight    atomic.Int32
	maxInFlight atomic.Int32
	delay       time.Duration
	sessionBody string
	sessionCode int
	password    string // the account's password, testPassword unless set
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{tokens: map[string]bool{}, refreshes: map[string]bool{}, expiresIn: 3600,
		sessionBody: referenceSession, sessionCode: 200}
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if strings.HasSuffix(r.URL.Path, "/token") {
		_ = r.ParseForm()
		form := map[string]string{}
		for k := range r.PostForm {
			form[k] = r.PostForm.Get(k)
		}
		f.tokenForms = append(f.tokenForms, form)
		switch form["grant_type"] {
		case "password":
			if want := cmp.Or(f.password, testPassword); form["username"] != testUser || form["password"] != want {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"message":"Invalid username or password."}`)
				return
			}
		case "refresh_token":
			if !f.refreshes[form["refresh_token"]] {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"message":"Invalid refresh token."}`)
				return
			}
		default:
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.issued++
		access, refresh := fmt.Sprintf("access-%d", f.issued), fmt.Sprintf("refresh-%d", f.issued)
		f.tokens[access], f.refreshes[refresh] = true, true
		fmt.Fprintf(w, `{"access_token":%q,"refresh_token":%q,"token_type":"bearer","expires_in":%d,"userName":"x",".issued":"x",".expires":"x"}`, access, refresh, f.expiresIn)
		return
	}
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !f.tokens[auth] || f.reject401 > 0 {
		if f.reject401 > 0 {
			f.reject401--
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Authorization has been denied for this request."}`)
		return
	}
	w.WriteHeader(f.sessionCode)
	fmt.Fprint(w, f.sessionBody)
}

func (f *fakeAPI) grants() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var g []string
	for _, form := range f.tokenForms {
		g = append(g, form["grant_type"])
	}
	return g
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newTestClient(t *testing.T, f *fakeAPI, version, password string, clk *clock) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	o := Options{BaseURL: srv.URL, APIVersion: version, Username: testUser,
		Password: func() string { return password }, HTTPClient: srv.Client(), MaxConcurrent: 4}
	if clk != nil {
		o.Now = clk.Now
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const refID = "668f478c-0326-440a-8bdf-58cf39163ea2"

func TestOneTokenForManyCalls(t *testing.T) {
	f := newFakeAPI()
	c := newTestClient(t, f, "v6", testPassword, nil)
	for range 5 {
		if _, err := c.GetSession(context.Background(), refID); err != nil {
			t.Fatal(err)
		}
	}
	if g := f.grants(); len(g) != 1 || g[0] != "password" {
		t.Errorf("token requests = %v, want one password grant", g)
	}
}

func TestAntiforgeryFlagByVersion(t *testing.T) {
	for version, want := range map[string]string{"v6": "", "v7": "true", "v8": "true"} {
		f := newFakeAPI()
		c := newTestClient(t, f, version, testPassword, nil)
		if _, err := c.GetSession(context.Background(), refID); err != nil {
			t.Fatal(err)
		}
		if got := f.tokenForms[0]["disable_antiforgery_token"]; got != want {
			t.Errorf("%s: disable_antiforgery_token = %q, want %q", version, got, want)
		}
	}
}

func TestRenewalBeforeExpiryUsesRefreshToken(t *testing.T) {
	f := newFakeAPI()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := newTestClient(t, f, "v8", testPassword, clk)
	get := func() {
		t.Helper()
		if _, err := c.GetSession(context.Background(), refID); err != nil {
			t.Fatal(err)
		}
	}
	get()
	clk.Add(50 * time.Minute)
	get()
	if g := f.grants(); len(g) != 1 {
		t.Fatalf("renewed too early: %v", g)
	}
	clk.Add(9 * time.Minute) // within renewBefore of the 60 minute expiry
	get()
	if g := f.grants(); strings.Join(g, ",") != "password,refresh_token" {
		t.Errorf("grants = %v, want password then refresh_token", g)
	}
}

func TestRenewalFallsBackToPassword(t *testing.T) {
	f := newFakeAPI()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := newTestClient(t, f, "v6", testPassword, clk)
	if _, err := c.GetSession(context.Background(), refID); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.refreshes = map[string]bool{} // the server restarted and forgot its refresh tokens
	f.mu.Unlock()
	clk.Add(2 * time.Hour)
	if _, err := c.GetSession(context.Background(), refID); err != nil {
		t.Fatal(err)
	}
	if g := f.grants(); strings.Join(g, ",") != "password,refresh_token,password" {
		t.Errorf("grants = %v", g)
	}
}

func TestUnauthorizedRenewsOnceAndRetriesOnce(t *testing.T) {
	f := newFakeAPI()
	c := newTestClient(t, f, "v6", testPassword, nil)
	if _, err := c.GetSession(context.Background(), refID); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.tokens = map[string]bool{} // revoked
	f.mu.Unlock()
	if _, err := c.GetSession(context.Background(), refID); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if g := f.grants(); len(g) != 2 {
		t.Errorf("grants = %v, want one renewal", g)
	}

	f.mu.Lock()
	f.reject401 = 100 // the server refuses every token: no loop, one retry, then an error
	f.mu.Unlock()
	_, err := c.GetSession(context.Background(), refID)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401 APIError", err)
	}
	if f.reject401 != 98 {
		t.Errorf("data calls answered 401: %d, want 2 (one try, one retry)", 100-f.reject401)
	}
}

func TestBadCredentialsBackOff(t *testing.T) {
	f := newFakeAPI()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := newTestClient(t, f, "v7", "wrong-"+testPassword, clk)
	for range 5 {
		_, err := c.GetSession(context.Background(), refID)
		var authErr *AuthError
		if !errors.As(err, &authErr) {
			t.Fatalf("err = %v, want AuthError", err)
		}
		if strings.Contains(err.Error(), testPassword) {
			t.Fatalf("error leaks the password: %v", err)
		}
		if !strings.Contains(err.Error(), "Invalid username or password") {
			t.Errorf("error does not carry the server's message: %v", err)
		}
	}
	if n := len(f.grants()); n != 1 {
		t.Errorf("token requests during backoff = %d, want 1", n)
	}
	clk.Add(minAuthBackoff + time.Second)
	_, _ = c.GetSession(context.Background(), refID)
	if n := len(f.grants()); n != 2 {
		t.Errorf("token requests after backoff = %d, want 2", n)
	}
}

func TestAPIErrorBody(t *testing.T) {
	f := newFakeAPI()
	f.sessionCode = 404
	f.sessionBody = `{"message":"Data retrieval session not found.","errorCode":"ResourceNotFound","stackTrace":"at Veeam..."}`
	c := newTestClient(t, f, "v8", testPassword, nil)
	_, err := c.GetSession(context.Background(), refID)
	if apiErr := (*APIError)(nil); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("err = %v, want not found", err)
	}
	want := "session: HTTP 404 Not Found: Data retrieval session not found. (ResourceNotFound)"
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if Reason(err) != "not found" {
		t.Errorf("reason = %q", Reason(err))
	}
}

func TestBodySizeCap(t *testing.T) {
	f := newFakeAPI()
	f.sessionBody = `{"id":"` + strings.Repeat("x", maxSessionBody) + `"}`
	c := newTestClient(t, f, "v6", testPassword, nil)
	_, err := c.GetSession(context.Background(), refID)
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("err = %v, want ErrBodyTooLarge", err)
	}
}

func TestMalformedSessionIsDecodeError(t *testing.T) {
	f := newFakeAPI()
	f.sessionBody = `<html>Service Unavailable</html>`
	c := newTestClient(t, f, "v6", testPassword, nil)
	_, err := c.GetSession(context.Background(), refID)
	var decErr *DecodeError
	if !errors.As(err, &decErr) || Reason(err) != "malformed answer" {
		t.Fatalf("err = %v (%s), want a DecodeError", err, Reason(err))
	}
}

func TestConcurrencyLimit(t *testing.T) {
	f := newFakeAPI()
	f.delay = 20 * time.Millisecond
	c := newTestClient(t, f, "v6", testPassword, nil) // MaxConcurrent 4
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetSession(context.Background(), refID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if m := f.maxInFlight.Load(); m > 4 {
		t.Errorf("max requests in flight = %d, want <= 4", m)
	}
	if g := f.grants(); len(g) != 1 {
		t.Errorf("concurrent first calls made %d token requests, want 1", len(g))
	}
}

func TestDeadlineIsTimeout(t *testing.T) {
	f := newFakeAPI()
	f.delay = 500 * time.Millisecond
	c := newTestClient(t, f, "v6", testPassword, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.GetSession(ctx, refID)
	if Reason(err) != "timeout" {
		t.Fatalf("err = %v (reason %q), want timeout", err, Reason(err))
	}
}
