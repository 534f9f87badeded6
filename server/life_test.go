package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kitlog "github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// serverSeries sums, per family, the series of reg that carry server="name" (a histogram
// counts its samples). A family without such series is absent.
func serverSeries(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range fams {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "server" && lp.GetValue() == name {
					out[mf.GetName()] += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return out
}

// countedServer is startServer that also counts the connections open to it; wrap, when
// set, sits in front of the simulator.
func countedServer(t *testing.T, wrap func(http.Handler) http.Handler) (*simServer, *atomic.Int64) {
	t.Helper()
	sim := simulator.New(simulator.Options{Username: user, Password: password})
	cert, caPEM, err := simulator.GenerateCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	open := &atomic.Int64{}
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // connections closed mid-handshake are expected here
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	t.Cleanup(sim.ClearFaults)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &simServer{sim: sim, url: srv.URL, tls: &tls.Config{RootCAs: pool}, ca: string(caPEM)}, open
}

// serverConfig is one server of a config. gen stands for its connection settings: a
// different gen is a different request timeout, which makes a reload rebuild the server.
func serverConfig(srv *simServer, name, version string, gen int, ids []vb365.ID) config.ServerConfig {
	return config.ServerConfig{Name: name, URL: srv.url, APIVersion: version, Username: user,
		Password: password, TLSConfig: config.TLSConfig{CA: srv.ca}, MaxConcurrentRequests: 2,
		Timeout: config.Duration(10*time.Second + time.Duration(gen)*time.Millisecond), CacheTTL: ttl(0), Sessions: ids,
		Collect: []string{config.CollectDataRetrievals}}
}

// servers is a whole config of the given servers.
func servers(list ...config.ServerConfig) *config.Config { return &config.Config{Servers: list} }

// waitFor polls cond; the bound is generous, the assertion is on the state, not the time.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestLaterCallerIsNotCutByEarlierRead: a scrape that arrives while a read with an earlier
// deadline is in flight is not answered with what that read had time for: it gets the
// real answer. The early caller gets what it would alone (nothing: the server is slower
// than its deadline).
func TestLaterCallerIsNotCutByEarlierRead(t *testing.T) {
	srv := startServer(t, simulator.Options{})
	ids := addSessions(t, srv.sim, time.Now(), 2, nil)
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids}, server.Options{})
	defer tg.Close()
	if err := srv.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultLatency, Latency: time.Second}); err != nil {
		t.Fatal(err)
	}
	early := make(chan *server.Snapshot)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		early <- tg.Snapshot(ctx)
	}()
	time.Sleep(20 * time.Millisecond) // the early caller's read is under way
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	late := tg.Snapshot(ctx)
	if !late.Up {
		t.Fatalf("the caller with the later deadline got up=0: %v", late.Err)
	}
	for _, r := range late.Sessions {
		if r.Session == nil {
			t.Errorf("session %s not read: %v", r.ID, r.Err)
		}
	}
	for _, r := range (<-early).Sessions {
		if r.Session != nil {
			t.Errorf("the early caller, whose deadline was shorter than the server's latency, got session %s", r.ID)
		}
	}
}

// TestShortScrapeBesideLongOneAnswers (issue 19 point 6): against a slow server, a scrape
// with a short deadline that arrives while one with a long deadline is in flight answers
// as it would alone (up, the sessions it had time for), not up 0 and nothing; a scrape
// with a deadline of 0.4 s beside them answers too. Scrapes alike in deadline still share
// one read (TestConcurrentSnapshotsShareCalls).
func TestShortScrapeBesideLongOneAnswers(t *testing.T) {
	srv := startServer(t, simulator.Options{})
	ids := addSessions(t, srv.sim, time.Now(), 12, func(int) bool { return true })
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, MaxConcurrentRequests: 2}, server.Options{})
	defer tg.Close()
	server.ForceReadStrategy(tg, server.ReadPerID)
	snapshot(t, tg) // logs in
	if err := srv.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultLatency, Latency: 500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	long := make(chan *server.Snapshot)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		long <- tg.Snapshot(ctx)
	}()
	time.Sleep(50 * time.Millisecond) // the long read is under way
	tiny := make(chan *server.Snapshot)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		tiny <- tg.Snapshot(ctx)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	short := tg.Snapshot(ctx)
	read := 0
	for _, r := range short.Sessions {
		if r.Session != nil {
			read++
		}
	}
	if !short.Up || read == 0 {
		t.Errorf("the short scrape beside a long one answered up=%v with %d of %d sessions (err %v); alone it reads some", short.Up, read, len(ids), short.Err)
	}
	if s := <-tiny; s == nil || len(s.Sessions) != len(ids) {
		t.Errorf("the 0.4 s scrape got no answer for its sessions: %+v", s)
	}
	if l := <-long; !l.Up {
		t.Errorf("the long scrape got up=0: %v", l.Err)
	} else {
		for _, r := range l.Sessions {
			if r.Session == nil {
				t.Errorf("long scrape: session %s not read: %v", r.ID, r.Err)
			}
		}
	}
}

// TestPoolForgetsRemovedServers: after a reload that removes a server, no self-metric
// carries its server label; the servers that stay keep theirs.
func TestPoolForgetsRemovedServers(t *testing.T) {
	srv := startServer(t, simulator.Options{})
	ids := addSessions(t, srv.sim, time.Now(), 2, nil)
	reg := prometheus.NewRegistry()
	pool := server.NewPool(server.Options{Metrics: vb365.NewMetrics(reg)})
	defer pool.Close()
	keep, gone := serverConfig(srv, "keep", "v8", 0, ids), serverConfig(srv, "gone", "v8", 0, ids)
	if err := pool.Apply(servers(keep, gone)); err != nil {
		t.Fatal(err)
	}
	var removed *server.Server
	for _, tg := range pool.Servers() {
		snapshot(t, tg)
		if tg.Name() == "gone" {
			removed = tg
		}
	}
	before := serverSeries(t, reg, "gone")
	for _, name := range []string{"vb365_exporter_api_requests_total", "vb365_exporter_api_request_duration_seconds",
		"vb365_exporter_token_requests_total", "vb365_exporter_tls_handshakes_total"} {
		if before[name] == 0 {
			t.Fatalf("no %s series for the server before the reload: %v", name, before)
		}
	}
	if err := pool.Apply(servers(keep)); err != nil {
		t.Fatal(err)
	}
	// The reload does not wait for the removed server to close: until it has, a dial its
	// last read started may still end in a handshake, counted, and forgotten after Close.
	pool.WaitRetired()
	if got := serverSeries(t, reg, "gone"); len(got) != 0 {
		t.Errorf("series of the removed server remain: %v", got)
	}
	// net/http finishes a dial that its request no longer needs. Ending after the removed
	// server closed, it is refused: counted, it would bring the series back for good.
	if err := removed.LateHandshake(srv.url); err == nil || !strings.Contains(err.Error(), "closed by a reload") {
		t.Errorf("a handshake with the removed server after it closed: %v; want it refused", err)
	}
	if got := serverSeries(t, reg, "gone"); len(got) != 0 {
		t.Errorf("series of the removed server are back after a late handshake: %v", got)
	}
	if got := serverSeries(t, reg, "keep"); len(got) != len(before) {
		t.Errorf("the remaining server has series in %d families, want %d: %v", len(got), len(before), got)
	}
}

// TestReloadsDuringScrapesReleaseEverything: many reloads that replace and remove servers
// while scrapes are in flight leave no connection, goroutine or live token behind once the
// reads have ended and the pool is closed; each replaced server logs out its token.
func TestReloadsDuringScrapesReleaseEverything(t *testing.T) {
	srv, open := countedServer(t, nil)
	ids := addSessions(t, srv.sim, time.Now(), 3, nil)
	// Reads stay in flight long enough for reloads to land in the middle of them.
	if err := srv.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultLatency, Latency: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()
	pool := server.NewPool(server.Options{Metrics: vb365.NewMetrics(prometheus.NewRegistry())})
	configs := func(n, gen int) *config.Config {
		out := make([]config.ServerConfig, n)
		for i := range out {
			// New connection settings on every reload: every server is rebuilt or removed.
			out[i] = serverConfig(srv, fmt.Sprintf("s%d", i), "v8", gen, ids)
		}
		return servers(out...)
	}
	if err := pool.Apply(configs(1, 0)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, tg := range pool.Servers() {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					tg.Snapshot(ctx)
					cancel()
				}
			}
		}()
	}
	for gen := 1; gen <= 60; gen++ {
		if err := pool.Apply(configs(1+19*(gen%2), gen)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	pool.Close()

	if !waitFor(func() bool { return open.Load() == 0 }) {
		t.Errorf("%d connections still open to the server after the pool closed", open.Load())
	}
	if !waitFor(func() bool { return runtime.NumGoroutine() <= baseline+2 }) {
		t.Errorf("%d goroutines after the pool closed, %d before it started", runtime.NumGoroutine(), baseline)
	}
	// The simulator counts a request once its answer is sent: poll.
	waitFor(func() bool { st := srv.sim.Stats(); return st.ByEndpoint[simulator.EndpointLogout] == st.TokensIssued })
	st := srv.sim.Stats()
	if st.TokensIssued == 0 || st.ByEndpoint[simulator.EndpointLogout] != st.TokensIssued {
		t.Errorf("%d tokens issued, %d logged out; want every one logged out", st.TokensIssued, st.ByEndpoint[simulator.EndpointLogout])
	}
}

// TestClosedTargetStillReads: a scrape that took a target just before a reload closed it
// still gets an answer, and the target logs out again after that read.
func TestClosedTargetStillReads(t *testing.T) {
	srv := startServer(t, simulator.Options{})
	ids := addSessions(t, srv.sim, time.Now(), 1, nil)
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, APIVersion: "v7"}, server.Options{})
	snapshot(t, tg)
	tg.Close()
	// The simulator counts a request once its answer is sent: poll.
	if !waitFor(func() bool { return srv.sim.Stats().ByEndpoint[simulator.EndpointLogout] == 1 }) {
		t.Fatalf("%d logouts after Close, want 1", srv.sim.Stats().ByEndpoint[simulator.EndpointLogout])
	}
	closed := tg.TLSHandshakes()
	snapshot(t, tg)
	if !waitFor(func() bool { return srv.sim.Stats().ByEndpoint[simulator.EndpointLogout] == 2 }) {
		t.Errorf("%d logouts after a read on the closed target, want 2", srv.sim.Stats().ByEndpoint[simulator.EndpointLogout])
	}
	if n := srv.sim.Stats().TokensIssued; n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
	// Close closed the idle connections: the read after it needed a handshake of its own,
	// and was let make it. Once it has ended, the closed target refuses handshakes again.
	tg.Close() // returns once the read's cleanup has sealed the target again
	read := tg.TLSHandshakes()
	if read == closed {
		t.Errorf("no handshake for the read after Close (%d in all); its connections were closed", read)
	}
	if err := tg.LateHandshake(srv.url); err == nil || !strings.Contains(err.Error(), "closed by a reload") {
		t.Errorf("a handshake outside any read on the closed target: %v; want it refused", err)
	}
	if n := tg.TLSHandshakes(); n != read {
		t.Errorf("%d handshakes counted after a refused one, want %d", n, read)
	}
}

// TestPoolCloseStopsReads: at shutdown a read against a stalled server is stopped rather
// than waited for until its (here one hour) deadline; the server is still logged out and
// its connections closed.
func TestPoolCloseStopsReads(t *testing.T) {
	arrived := make(chan struct{}, 100)
	srv, open := countedServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "DataRetrievalSessions/") {
				arrived <- struct{}{}
			}
			next.ServeHTTP(w, r)
		})
	})
	ids := addSessions(t, srv.sim, time.Now(), 1, nil)
	pool := server.NewPool(server.Options{})
	if err := pool.Apply(servers(serverConfig(srv, "s", "v8", 0, ids))); err != nil {
		t.Fatal(err)
	}
	tg := pool.Servers()[0]
	snapshot(t, tg)
	<-arrived
	for _, ep := range []string{simulator.EndpointSession, simulator.EndpointList, simulator.EndpointRetrievals} {
		if err := srv.sim.SetFault(simulator.Fault{Endpoint: ep, Kind: simulator.FaultStall}); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan *server.Snapshot)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		got <- tg.Snapshot(ctx)
	}()
	<-arrived // the read is stalled at the server
	pool.Close()
	s := <-got
	if s.Up || !errors.Is(s.Err, context.Canceled) {
		t.Errorf("the read in flight at shutdown ended with up=%v err=%v, want it stopped (context canceled)", s.Up, s.Err)
	}
	// The simulator counts a request once its answer is sent: poll.
	if !waitFor(func() bool { return srv.sim.Stats().ByEndpoint[simulator.EndpointLogout] == 1 }) {
		t.Errorf("%d logouts, want 1", srv.sim.Stats().ByEndpoint[simulator.EndpointLogout])
	}
	srv.sim.ClearFaults() // the server's stalled handlers end
	if !waitFor(func() bool { return open.Load() == 0 }) {
		t.Errorf("%d connections still open", open.Load())
	}
}

// A reload that rebuilds a server (here its timeout changed) does not log again the ends of
// restores its predecessor logged: the pool keeps which were logged for the life of the
// exporter. The audit trail has each restore once per process.
func TestPoolRebuiltServerDoesNotRelogRestores(t *testing.T) {
	srv := startServer(t, simulator.Options{})
	now := time.Now()
	for i, result := range []string{simulator.StatusSuccess, simulator.StatusFailed} {
		if err := srv.sim.AddRestoreSession(simulator.RestoreSession{ID: fmt.Sprintf("4e570000-0000-4000-8000-%012d", i+1), Name: "restore",
			Organization: "contoso", Type: simulator.RestoreExchange, CreationTime: now.Add(-20 * time.Minute),
			EndTime: now.Add(-10 * time.Minute), Result: result}); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	pool := server.NewPool(server.Options{Logger: kitlog.NewLogfmtLogger(kitlog.NewSyncWriter(&logs)), Metrics: vb365.NewMetrics(prometheus.NewRegistry())})
	defer pool.Close()
	for gen := range 2 {
		sc := serverConfig(srv, "prod", "v8", gen, nil)
		sc.Collect = []string{config.CollectRestores}
		if err := pool.Apply(servers(sc)); err != nil {
			t.Fatal(err)
		}
		tg, _ := pool.Get("prod")
		if s := snapshot(t, tg); s.Restores == nil || len(s.Restores.Recent) != 2 {
			t.Fatalf("generation %d: restores %+v", gen, s.Restores)
		}
	}
	if n := strings.Count(logs.String(), `msg="restore session ended"`); n != 2 {
		t.Errorf("%d audit lines for 2 restores over a reload that rebuilt the server, want 2:\n%s", n, logs.String())
	}
}
