package main

import (
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// TestReloadStormDuringScrapes: reloads alternating between 1 and 20 servers, each one
// rebuilding every server, while scrapes are in flight, leave no connection, goroutine or
// live token of a replaced server behind once the reads in flight have ended: only the
// running server's connections stay, and stopping the exporter logs out every token.
func TestReloadStormDuringScrapes(t *testing.T) {
	var open atomic.Int64
	sim := startRawSim(t, rawSim{connState: func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}})
	t.Cleanup(sim.sim.ClearFaults)
	if err := sim.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultLatency, Latency: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(n, gen int) {
		specs := make([]serverSpec, n)
		for i := range specs {
			// A new timeout on every reload: every server's client is rebuilt.
			specs[i] = serverSpec{name: fmt.Sprintf("s%d", i), version: "v8", sim: sim, sessions: []string{simulator.ReferenceSessionID},
				extra: fmt.Sprintf("    cache_ttl: 0s\n    max_concurrent_requests: 2\n    timeout: %ds\n", 10+gen)}
		}
		writeConfig(t, dir, specs...)
	}
	write(1, 0)
	exp := startExporter(t, dir+"/config.yml")
	scrape(t, exp.url+"/metrics", nil)
	http.DefaultClient.CloseIdleConnections()
	baseline := runtime.NumGoroutine()

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
				req, _ := http.NewRequest(http.MethodGet, exp.url+"/metrics", nil)
				req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "5")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	for gen := 1; gen <= 40; gen++ {
		write(1+19*(gen%2), gen)
		postReload(t, exp)
		time.Sleep(10 * time.Millisecond)
	}
	write(1, 41)
	postReload(t, exp)
	close(stop)
	wg.Wait()
	http.DefaultClient.CloseIdleConnections()

	if !waitUntil(func() bool { return open.Load() <= 2 }) {
		t.Errorf("%d connections open to the server after the storm, want at most 2 (the running server's)", open.Load())
	}
	if !waitUntil(func() bool { return runtime.NumGoroutine() <= baseline+2*2 }) {
		t.Errorf("%d goroutines after the storm, %d before (the running server may add 2 per connection)", runtime.NumGoroutine(), baseline)
	}
	exp.stop()
	if !waitUntil(func() bool { return open.Load() == 0 }) {
		t.Errorf("%d connections open after the exporter stopped", open.Load())
	}
	// The simulator counts a request once its answer is sent: poll.
	waitUntil(func() bool { st := sim.sim.Stats(); return st.ByEndpoint[simulator.EndpointLogout] == st.TokensIssued })
	if st := sim.sim.Stats(); st.ByEndpoint[simulator.EndpointLogout] != st.TokensIssued {
		t.Errorf("%d tokens issued, %d logged out", st.TokensIssued, st.ByEndpoint[simulator.EndpointLogout])
	}
}
