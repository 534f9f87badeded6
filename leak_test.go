package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// TestMain fails the package when goroutines outlive the tests. Every test runs the whole
// exporter in-process and stops it, so a goroutine left behind here is one a long-running
// exporter would pile up: per reload, per scrape or per stalled request.
func TestMain(m *testing.M) {
	code := m.Run()
	// The tests' own HTTP client keeps idle connections to the exporters; they are the
	// test's, not the exporter's.
	http.DefaultClient.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// TestReloadReleasesConnections: a reload that rebuilds a target (its connection settings
// changed) closes the old target's connections instead of leaving them open until their
// idle timeout, so reloads do not pile up connections and goroutines.
func TestReloadReleasesConnections(t *testing.T) {
	var open atomic.Int64
	sim := startRawSim(t, rawSim{connState: func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}})
	dir := t.TempDir()
	spec := serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}, extra: "    cache_ttl: 0s\n    max_concurrent_requests: 2\n"}
	cfg := writeConfig(t, dir, spec)
	exp := startExporter(t, cfg)
	scrape(t, exp.url+"/metrics", nil)
	for i := range 5 {
		spec.extra = fmt.Sprintf("    cache_ttl: 0s\n    max_concurrent_requests: 2\n    timeout: %ds\n", 11+i) // a new client each time
		writeConfig(t, dir, spec)
		resp, err := http.Post(exp.url+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reload = %d", resp.StatusCode)
		}
		if r := scrape(t, exp.url+"/metrics", nil); r.mustValue(t, "vb365_up", nil) != 1 {
			t.Fatal("not up after reload")
		}
	}
	// Closing is asynchronous on the server's side; wait for it rather than for a time. The
	// current target may keep up to max_concurrent_requests (2) connections; the five
	// replaced ones must have closed theirs.
	waitOpen := func(want int64) int64 {
		deadline := time.Now().Add(10 * time.Second)
		for open.Load() > want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		return open.Load()
	}
	if n := waitOpen(2); n > 2 {
		t.Errorf("%d connections open to the server after 5 reloads, want at most 2 (the current target's)", n)
	}
	exp.stop()
	if n := waitOpen(0); n != 0 {
		t.Errorf("%d connections open after the exporter stopped", n)
	}
}
