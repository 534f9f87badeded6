package vb365

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// bearerSpy remembers the access tokens the client presented and counts the logouts as they
// arrive (the simulator counts a request only after its answer is sent).
type bearerSpy struct {
	next    http.Handler
	mu      sync.Mutex
	seen    []string
	logouts int64
}

func (b *bearerSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		b.seen = append(b.seen, tok)
	}
	if strings.HasSuffix(r.URL.Path, "/token/logout") {
		b.logouts++
	}
	b.mu.Unlock()
	b.next.ServeHTTP(w, r)
}

func (b *bearerSpy) logoutCount() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logouts
}

// TestLogout: after Logout the server no longer honours the token the client held (v7, v8)
// and the client logs in anew when used again; v6, which has no logout, is sent nothing and
// keeps its token.
func TestLogout(t *testing.T) {
	for _, tc := range []struct {
		version string
		logouts int64
	}{{"v6", 0}, {"v7", 1}, {"v8", 1}} {
		t.Run(tc.version, func(t *testing.T) {
			sim := simulator.New(simulator.Options{Username: testUser, Password: simPassword})
			sim.LoadDemoData()
			spy := &bearerSpy{next: sim}
			srv := httptest.NewServer(spy)
			t.Cleanup(srv.Close)
			c, err := New(Options{BaseURL: srv.URL, APIVersion: tc.version, Username: testUser,
				Password: func() string { return simPassword }, HTTPClient: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := c.Logout(ctx); err != nil || sim.Stats().Total != 0 {
				t.Fatalf("Logout without a token: err %v, %d requests", err, sim.Stats().Total)
			}
			if _, err := c.GetSession(ctx, simulator.ReferenceSessionID); err != nil {
				t.Fatal(err)
			}
			if err := c.Logout(ctx); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			if got := spy.logoutCount(); got != tc.logouts {
				t.Errorf("%d logout requests, want %d", got, tc.logouts)
			}
			spy.mu.Lock()
			tok := spy.seen[0]
			spy.mu.Unlock()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+tc.version+"/DataRetrievalSessions/"+simulator.ReferenceSessionID, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := map[bool]int{true: http.StatusUnauthorized, false: http.StatusOK}[tc.logouts > 0]; resp.StatusCode != want {
				t.Errorf("the old token answers %d after Logout, want %d", resp.StatusCode, want)
			}
			if err := c.Logout(ctx); err != nil || spy.logoutCount() != tc.logouts {
				t.Errorf("a second Logout sent a request or failed: %v", err)
			}
			if _, err := c.GetSession(ctx, simulator.ReferenceSessionID); err != nil {
				t.Fatalf("the client does not log in again after Logout: %v", err)
			}
			// v7/v8 log in again after the logout; v6 keeps its token, which is still good.
			if got, want := sim.Stats().TokensIssued, 1+tc.logouts; got != want {
				t.Errorf("%d tokens issued, want %d", got, want)
			}
		})
	}
}

// TestLogoutFailureKeepsSecrets: a failed logout is an error without the token in it.
func TestLogoutFailureKeepsSecrets(t *testing.T) {
	sim := simulator.New(simulator.Options{Username: testUser, Password: simPassword})
	sim.LoadDemoData()
	spy := &bearerSpy{next: sim}
	srv := httptest.NewServer(spy)
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, APIVersion: "v8", Username: testUser,
		Password: func() string { return simPassword }, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSession(context.Background(), simulator.ReferenceSessionID); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointLogout, Kind: simulator.FaultStatus, Status: 500}); err != nil {
		t.Fatal(err)
	}
	err = c.Logout(context.Background())
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("Logout = %v, want an HTTP 500 error", err)
	}
	spy.mu.Lock()
	tok := spy.seen[0]
	spy.mu.Unlock()
	if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), simPassword) {
		t.Error("the logout error carries a secret")
	}
}

// TestLogoutWaitsForTokenInFlight: a token request that outlives the call that started it
// (that call's deadline passed) stores its token after the caller gave up; Logout waits for
// it and logs that token out rather than leaving it live.
func TestLogoutWaitsForTokenInFlight(t *testing.T) {
	sim := simulator.New(simulator.Options{Username: testUser, Password: simPassword})
	sim.LoadDemoData()
	spy := &bearerSpy{next: sim}
	srv := httptest.NewServer(spy)
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, APIVersion: "v8", Username: testUser,
		Password: func() string { return simPassword }, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointToken, Kind: simulator.FaultLatency, Latency: 300 * time.Millisecond, Count: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.GetSession(ctx, simulator.ReferenceSessionID); err == nil {
		t.Fatal("the read did not give up while the token request was slow")
	}
	if err := c.Logout(context.Background()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	// Wait for the slow token request to be answered (it is, with or without Logout waiting).
	for deadline := time.Now().Add(10 * time.Second); sim.Stats().TokensIssued == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := sim.Stats().TokensIssued; n != 1 {
		t.Fatalf("%d tokens issued, want 1", n)
	}
	if n := spy.logoutCount(); n != 1 {
		t.Errorf("%d logouts, want 1: the token issued after the read gave up is still live", n)
	}
}
