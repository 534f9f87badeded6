package vb365

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const simPassword = "Sim-P4ssw0rd-for-faults"

// simClient is a client against the simulator, which implements every fault the issue lists.
type simClient struct {
	sim    *simulator.Simulator
	client *Client
	clk    *clock
	read   *atomic.Int64 // body bytes the client consumed
	tokens *atomic.Int64 // token requests the client sent
}

func newSimClient(t *testing.T, timeout time.Duration) *simClient {
	t.Helper()
	return newSimClientPassword(t, timeout, simPassword)
}

func newSimClientPassword(t *testing.T, timeout time.Duration, password string) *simClient {
	t.Helper()
	sim := simulator.New(simulator.Options{Username: testUser, Password: password})
	sim.LoadDemoData()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(sim.ClearFaults) // release stalled handlers before the server closes
	read, tokens := &atomic.Int64{}, &atomic.Int64{}
	clk := &clock{now: time.Now()}
	hc := &http.Client{Transport: countingTransport{next: srv.Client().Transport, read: read, tokens: tokens}}
	c, err := New(Options{BaseURL: srv.URL, APIVersion: "v7", Username: testUser,
		Password: func() string { return password }, HTTPClient: hc, MaxConcurrent: 4,
		RequestTimeout: timeout, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &simClient{sim: sim, client: c, clk: clk, read: read, tokens: tokens}
}

// countingTransport counts the body bytes the client actually reads, to prove the size cap
// applies while reading, not after buffering everything.
type countingTransport struct {
	next   http.RoundTripper
	read   *atomic.Int64
	tokens *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		// Counted here, not by the simulator: after a reset the client can be done before
		// the server's handler has recorded the request.
		c.tokens.Add(1)
	}
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		resp.Body = countingBody{resp.Body, c.read}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (s *simClient) fault(t *testing.T, f simulator.Fault) {
	t.Helper()
	if err := s.sim.SetFault(f); err != nil {
		t.Fatal(err)
	}
}

// TestClientFaults gives each fault of one session's GET and checks the error class the
// exporter reports (Reason feeds the log line), the typed error, and that a healthy
// session on the same client is unaffected.
func TestClientFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  simulator.Fault
		reason string
		check  func(t *testing.T, err error)
	}{
		{name: "500", fault: simulator.Fault{Kind: simulator.FaultStatus, Status: 500}, reason: "HTTP 500",
			check: func(t *testing.T, err error) {
				var e *APIError
				if !errors.As(err, &e) || e.Message != "Internal Server Error." || e.ErrorCode != "" {
					t.Errorf("err = %#v, want Veeam's error body parsed", err)
				}
			}},
		{name: "503", fault: simulator.Fault{Kind: simulator.FaultStatus, Status: 503}, reason: "HTTP 503"},
		{name: "non-JSON 502 page", fault: simulator.Fault{Kind: simulator.FaultNonJSON}, reason: "HTTP 502",
			check: func(t *testing.T, err error) {
				if strings.Contains(err.Error(), "<html") {
					t.Errorf("the HTML page is quoted in the error: %v", err)
				}
			}},
		{name: "malformed", fault: simulator.Fault{Kind: simulator.FaultMalformed}, reason: "malformed answer"},
		{name: "truncated", fault: simulator.Fault{Kind: simulator.FaultTruncated}, reason: "answer cut off",
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrTruncated) {
					t.Errorf("err = %v, want ErrTruncated", err)
				}
			}},
		{name: "huge", fault: simulator.Fault{Kind: simulator.FaultHuge, Bytes: 32 << 20}, reason: "answer too large"},
		{name: "stall", fault: simulator.Fault{Kind: simulator.FaultStall}, reason: "timeout",
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrRequestTimeout) {
					t.Errorf("err = %v, want ErrRequestTimeout", err)
				}
			}},
		{name: "latency over the timeout", fault: simulator.Fault{Kind: simulator.FaultLatency, Latency: time.Minute}, reason: "timeout"},
		{name: "reset", fault: simulator.Fault{Kind: simulator.FaultReset}, reason: "connection error",
			check: func(t *testing.T, err error) {
				// The local port differs per connection; it would defeat log-once-per-cause.
				if strings.Contains(err.Error(), "->") {
					t.Errorf("error names the local address: %v", err)
				}
			}},
		{name: "401 every time", fault: simulator.Fault{Kind: simulator.FaultUnauthorized}, reason: "HTTP 401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSimClient(t, 300*time.Millisecond)
			// Warm up: a token and a kept-alive connection, as in steady state.
			if _, err := s.client.GetSession(context.Background(), simulator.DemoWarningID); err != nil {
				t.Fatal(err)
			}
			f := tc.fault
			f.Endpoint, f.SessionID = simulator.EndpointSession, simulator.DemoFailedID
			s.fault(t, f)
			s.read.Store(0)
			_, err := s.client.GetSession(context.Background(), simulator.DemoFailedID)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			if got := Reason(err); got != tc.reason {
				t.Errorf("Reason = %q, want %q (err %v)", got, tc.reason, err)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			if n := s.read.Load(); n > maxSessionBody+64<<10 {
				t.Errorf("read %d body bytes for one session, cap is %d", n, maxSessionBody)
			}
			if _, err := s.client.GetSession(context.Background(), simulator.DemoWarningID); err != nil {
				t.Errorf("a healthy session failed after the fault: %v", err)
			}
			if strings.Contains(err.Error(), simPassword) {
				t.Errorf("error contains the password: %v", err)
			}
		})
	}
}

func TestLatencyWithinTimeoutSucceeds(t *testing.T) {
	s := newSimClient(t, 5*time.Second)
	s.fault(t, simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultLatency, Latency: 50 * time.Millisecond})
	if _, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID); err != nil {
		t.Fatal(err)
	}
}

// A token the server revokes is renewed with the refresh token, once, and the call succeeds.
func TestRevokedTokenRenewsOnce(t *testing.T) {
	s := newSimClient(t, 5*time.Second)
	if _, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID); err != nil {
		t.Fatal(err)
	}
	s.fault(t, simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultUnauthorized, Count: 1})
	if _, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	st := s.sim.Stats()
	if st.TokensIssued != 2 || st.BySession[simulator.ReferenceSessionID] != 3 {
		t.Errorf("tokens issued %d, session GETs %d; want 2 and 3 (one refused, one retried)", st.TokensIssued, st.BySession[simulator.ReferenceSessionID])
	}
}

// A 401 on every fresh token is not retried in a loop: one renewal, one retry, per call.
func TestPersistent401IsNotRetriedInALoop(t *testing.T) {
	s := newSimClient(t, 5*time.Second)
	s.fault(t, simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultUnauthorized})
	_, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID)
	if Reason(err) != "HTTP 401" {
		t.Fatalf("err = %v", err)
	}
	if n := s.sim.Stats().BySession[simulator.ReferenceSessionID]; n != 2 {
		t.Errorf("session GETs = %d, want 2", n)
	}
}

func TestRetryAfterPausesCalls(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault simulator.Fault
		pause time.Duration
	}{
		{name: "429", fault: simulator.Fault{Kind: simulator.FaultRateLimit, RetryAfter: 30 * time.Second}, pause: 30 * time.Second},
		{name: "503 with Retry-After", fault: simulator.Fault{Kind: simulator.FaultStatus, Status: 503, RetryAfter: 20 * time.Second}, pause: 20 * time.Second},
		{name: "429 asking for a day is capped", fault: simulator.Fault{Kind: simulator.FaultRateLimit, RetryAfter: 24 * time.Hour}, pause: maxRetryAfter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSimClient(t, 5*time.Second)
			f := tc.fault
			f.Endpoint, f.Count = simulator.EndpointSession, 1
			s.fault(t, f)
			ctx := context.Background()
			_, err := s.client.GetSession(ctx, simulator.ReferenceSessionID)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.RetryAfter <= 0 {
				t.Fatalf("first call: %v, want an APIError with Retry-After", err)
			}
			sent := s.sim.Stats().Total
			for range 5 {
				_, err = s.client.GetSession(ctx, simulator.DemoFailedID)
				var later *RetryLaterError
				if !errors.As(err, &later) || Reason(err) != "waiting for Retry-After" {
					t.Fatalf("during the pause: %v, want RetryLaterError", err)
				}
			}
			if got := s.sim.Stats().Total; got != sent {
				t.Errorf("%d requests sent during the pause", got-sent)
			}
			s.clk.Add(tc.pause - time.Second)
			if _, err := s.client.GetSession(ctx, simulator.DemoFailedID); Reason(err) != "waiting for Retry-After" {
				t.Errorf("1 s before the pause ends: %v", err)
			}
			s.clk.Add(2 * time.Second)
			if _, err := s.client.GetSession(ctx, simulator.DemoFailedID); err != nil {
				t.Errorf("after the pause: %v", err)
			}
		})
	}
}

func TestPlain503DoesNotPause(t *testing.T) {
	s := newSimClient(t, 5*time.Second)
	s.fault(t, simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultStatus, Status: 503, Count: 1})
	if _, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID); Reason(err) != "HTTP 503" {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID); err != nil {
		t.Fatalf("a 503 without Retry-After paused the client: %v", err)
	}
}

// A token endpoint that is down is not a credentials problem: no auth backoff, the next call
// tries again, and the error says what happened. (An answer that is not a token is backed
// off: TestTokenLoginPageIsBackedOff.)
func TestTokenEndpointDown(t *testing.T) {
	for _, f := range []simulator.Fault{
		{Endpoint: simulator.EndpointToken, Kind: simulator.FaultStatus, Status: 503},
		{Endpoint: simulator.EndpointToken, Kind: simulator.FaultReset},
	} {
		t.Run(f.Kind, func(t *testing.T) {
			s := newSimClient(t, 5*time.Second)
			s.fault(t, f)
			for range 2 {
				_, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID)
				var authErr *AuthError
				if err == nil || errors.As(err, &authErr) {
					t.Fatalf("err = %v, want a non-auth error", err)
				}
				if !strings.HasPrefix(err.Error(), "token") && Reason(err) != "connection error" {
					t.Errorf("error does not name the token endpoint: %v", err)
				}
			}
			if n := s.tokens.Load(); n != 2 {
				t.Errorf("token requests = %d, want 2 (no backoff for a server fault)", n)
			}
			if n := s.sim.Stats().ByEndpoint[simulator.EndpointSession]; n != 0 {
				t.Errorf("session requests without a token = %d", n)
			}
			s.sim.ClearFaults()
			if _, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID); err != nil {
				t.Errorf("after recovery: %v", err)
			}
		})
	}
}

// Bad credentials back off exponentially up to maxAuthBackoff: over an hour of scrapes every
// 15 s, the server sees a handful of attempts, not 240.
func TestBadCredentialsBackoffGrowsAndCaps(t *testing.T) {
	f := newFakeAPI()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := newTestClient(t, f, "v6", "wrong", clk)
	var untils []time.Time
	for range 240 {
		_, err := c.GetSession(context.Background(), refID)
		var authErr *AuthError
		if !errors.As(err, &authErr) {
			t.Fatalf("err = %v", err)
		}
		if len(untils) == 0 || !authErr.Until.Equal(untils[len(untils)-1]) {
			untils = append(untils, authErr.Until)
		}
		clk.Add(15 * time.Second)
	}
	attempts := len(f.grants())
	// 30s, 60s, 2m, 4m, 8m, then every 10m: 10 attempts in an hour.
	if attempts < 8 || attempts > 12 {
		t.Errorf("token attempts in an hour = %d, want about 10", attempts)
	}
	for i := 1; i < len(untils); i++ {
		if gap := untils[i].Sub(untils[i-1]); gap > maxAuthBackoff+15*time.Second {
			t.Errorf("backoff gap %v exceeds the cap", gap)
		}
	}
}

// A server that echoes the request (password, token) in its error message must not make
// the exporter log them.
func TestServerEchoedSecretsAreMasked(t *testing.T) {
	f := newFakeAPI()
	c := newTestClient(t, f, "v6", testPassword, nil)
	if _, err := c.GetSession(context.Background(), refID); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.sessionCode = 500
	f.sessionBody = `{"message":"debug: password=` + testPassword + ` bearer=access-1 refresh=refresh-1"}`
	f.mu.Unlock()
	_, err := c.GetSession(context.Background(), refID)
	if err == nil {
		t.Fatal("no error")
	}
	for _, secret := range []string{testPassword, "access-1", "refresh-1"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows %q: %v", secret, err)
		}
	}
	if !strings.Contains(err.Error(), "<secret>") {
		t.Errorf("error lost the server's message: %v", err)
	}
}

// The one-entry list the target uses as a health check is capped far below a full page.
func TestListBodyCapFollowsLimit(t *testing.T) {
	s := newSimClient(t, 5*time.Second)
	if _, err := s.client.ListSessions(context.Background(), ListOptions{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	s.fault(t, simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultHuge, Bytes: 8 << 20})
	s.read.Store(0)
	_, err := s.client.ListSessions(context.Background(), ListOptions{Limit: 1})
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if n := s.read.Load(); n > 1<<20 {
		t.Errorf("read %d bytes for a one-entry page", n)
	}
	if got := pageBodyCap(10000); got != maxPageBody {
		t.Errorf("cap for a full page = %d, want %d", got, maxPageBody)
	}
}

func TestTLSErrorsNameTheFix(t *testing.T) {
	serve := func(t *testing.T, hosts ...string) (string, *x509.CertPool) {
		cert, caPEM, err := simulator.GenerateCert(hosts...)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(simulator.New(simulator.Options{Username: testUser, Password: simPassword}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		return srv.URL, pool
	}
	call := func(t *testing.T, url string, roots *x509.CertPool) error {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
		t.Cleanup(tr.CloseIdleConnections)
		c, err := New(Options{BaseURL: url, Username: testUser, Password: func() string { return simPassword },
			HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetSession(context.Background(), refID)
		return err
	}
	t.Run("untrusted", func(t *testing.T) {
		url, _ := serve(t, "127.0.0.1")
		err := call(t, url, x509.NewCertPool())
		if Reason(err) != "TLS: certificate not trusted" || !strings.Contains(err.Error(), "tls_config.ca_file") ||
			!strings.Contains(err.Error(), "insecure_skip_verify") {
			t.Errorf("err = %v (%s)", err, Reason(err))
		}
	})
	t.Run("wrong host", func(t *testing.T) {
		url, pool := serve(t, "vb365.example.com")
		err := call(t, url, pool)
		if Reason(err) != "TLS: certificate not valid for this host" || !strings.Contains(err.Error(), "tls_config.server_name") {
			t.Errorf("err = %v (%s)", err, Reason(err))
		}
	})
}
