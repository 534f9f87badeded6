package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const (
	user     = `EXAMPLE\monitoring`
	password = "t3st-Secret"
)

// clock is shared by the simulator and the target, so cache expiry is a step, not a wait.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type simServer struct {
	sim *simulator.Simulator
	url string
	tls *tls.Config // trusts the server's certificate
	ca  string      // the same CA, as a config's tls_config.ca
}

// startServer serves a simulator over HTTPS on loopback, as a VB365 server is reached.
func startServer(t *testing.T, opts simulator.Options) *simServer {
	t.Helper()
	opts.Username, opts.Password = user, password
	sim := simulator.New(opts)
	cert, caPEM, err := simulator.GenerateCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sim)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &simServer{sim: sim, url: srv.URL, tls: &tls.Config{RootCAs: pool}, ca: string(caPEM)}
}

// ttl is a cache_ttl as a config carries it.
func ttl(d time.Duration) *config.Duration {
	c := config.Duration(d)
	return &c
}

func sessionID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func retrievalID(i int) string { return fmt.Sprintf("11111111-0000-4000-8000-%012d", i) }

// addSessions adds n sessions created a minute apart before now; running picks which run.
func addSessions(t *testing.T, sim *simulator.Simulator, now time.Time, n int, running func(i int) bool) []vb365.ID {
	t.Helper()
	statuses := []string{simulator.StatusSuccess, simulator.StatusFailed, simulator.StatusWarning, simulator.StatusStopped, simulator.StatusNotConfigured}
	types := []string{simulator.TypeRetrieve, simulator.TypeChangeAvailabilityPeriod, simulator.TypeRetrievalRemoving}
	ids := make([]vb365.ID, n)
	for i := range n {
		created := now.Add(-time.Duration(n-i) * time.Minute)
		s := simulator.Session{
			ID: sessionID(i), Name: fmt.Sprintf("retrieval session %d", i), RetrievalID: retrievalID(i % 7),
			CreationTime: created, EndTime: created.Add(30 * time.Second),
			Progress: int32(i), ProcessedObjects: int64(3 * i), Type: types[i%len(types)], Status: statuses[i%len(statuses)],
		}
		if running != nil && running(i) {
			s.Status, s.EndTime = simulator.StatusRunning, time.Time{}
		}
		if err := sim.AddSession(s); err != nil {
			t.Fatal(err)
		}
		ids[i] = vb365.ID(s.ID)
	}
	return ids
}

func newTarget(t *testing.T, srv *simServer, cfg config.ServerConfig, o server.Options) *server.Server {
	t.Helper()
	cfg.URL, cfg.Username = srv.url, user
	cfg.Password = password
	cfg.TLSConfig.CA = srv.ca
	if cfg.CacheTTL == nil {
		cfg.CacheTTL = ttl(0) // the tests' default: no cache, unless they ask for one
	}
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.Collect == nil {
		cfg.Collect = []string{config.CollectDataRetrievals} // the kinds have tests of their own
	}
	if cfg.MaxConcurrentRequests == 0 {
		cfg.MaxConcurrentRequests = 4
	}
	tg, err := server.New(&cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func snapshot(t *testing.T, tg *server.Server) *server.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := tg.Snapshot(ctx)
	if !s.Up {
		t.Fatalf("server not up: %v", s.Err)
	}
	return s
}
