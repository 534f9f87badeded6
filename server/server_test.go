package server

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	promconfig "github.com/prometheus/common/config"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newSimTarget(t *testing.T, password string, clk *fakeClock) (*Server, *simulator.Simulator, *syncBuf) {
	t.Helper()
	sim := simulator.New(simulator.Options{Username: "u", Password: "right"})
	sim.LoadDemoData()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	logs := &syncBuf{}
	tg, err := New(&config.ServerConfig{Name: "prod", URL: srv.URL, Username: "u", Password: promconfig.Secret(password),
		Timeout: config.Duration(5 * time.Second), MaxConcurrentRequests: 4,
		Sessions: []vb365.ID{simulator.ReferenceSessionID, simulator.DemoFailedID, simulator.DemoWarningID}},
		Options{Logger: log.NewLogfmtLogger(logs), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.Close)
	return tg, sim, logs
}

// A wrong password is one cause however often it is retried: the error text changes with
// each attempt (it names the next one), the log line must not.
func TestAuthFailureLoggedOnceAcrossAttempts(t *testing.T) {
	clk := &fakeClock{now: time.Now()}
	tg, sim, logs := newSimTarget(t, "wrong", clk)
	for range 4 {
		snap := tg.Snapshot(context.Background())
		if snap.Up || snap.Err == nil {
			t.Fatalf("up with a wrong password: %+v", snap)
		}
		clk.Add(11 * time.Minute) // past any backoff: a new attempt every time
	}
	if n := sim.Stats().ByEndpoint[simulator.EndpointToken]; n != 4 {
		t.Fatalf("token attempts = %d, want 4 (one per expired backoff)", n)
	}
	out := logs.String()
	if n := strings.Count(out, `msg="VB365 server not usable"`); n != 1 {
		t.Errorf("%d 'not usable' lines for one lasting cause, want 1:\n%s", n, out)
	}
	// The sessions failed for the same reason; the server line already says it.
	if strings.Contains(out, `msg="sessions not read"`) {
		t.Errorf("the sessions repeat the server's cause:\n%s", out)
	}
}

// Different causes are logged separately, and a cleared cause is logged as cleared.
func TestCausesLoggedOnceEachAndCleared(t *testing.T) {
	clk := &fakeClock{now: time.Now()}
	tg, sim, logs := newSimTarget(t, "right", clk)
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, SessionID: simulator.DemoFailedID, Kind: simulator.FaultStatus, Status: 500}); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, SessionID: simulator.DemoWarningID, Kind: simulator.FaultMalformed}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		snap := tg.Snapshot(context.Background())
		if !snap.Up {
			t.Fatalf("not up: %v", snap.Err)
		}
	}
	sim.ClearFaults()
	tg.Snapshot(context.Background())
	out := logs.String()
	for _, reason := range []string{`reason="HTTP 500"`, `reason="malformed answer"`} {
		if n := strings.Count(out, reason); n != 1 {
			t.Errorf("%s logged %d times, want 1:\n%s", reason, n, out)
		}
	}
	if n := strings.Count(out, `msg="failure cleared"`); n != 2 {
		t.Errorf("%d 'failure cleared' lines, want 2:\n%s", n, out)
	}
}
