package main

import (
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// TestShortScrapeDoesNotSpoilLongOne: a scrape announcing a short timeout, started just
// before one announcing a long timeout, does not cut the shared read off at its own
// deadline: the long scrape gets the real answer, as it would alone.
func TestShortScrapeDoesNotSpoilLongOne(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg)
	t.Cleanup(sim.sim.ClearFaults)
	if err := sim.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultLatency, Latency: time.Second}); err != nil {
		t.Fatal(err)
	}
	short := make(chan scrapeResult)
	go func() {
		short <- scrape(t, exp.url+"/metrics", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "0.6"})
	}()
	time.Sleep(20 * time.Millisecond)
	long := scrape(t, exp.url+"/metrics", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "10"})
	if up := long.mustValue(t, "vb365_up", nil); up != 1 {
		t.Errorf("the long scrape got vb365_up %v", up)
	}
	if ok := long.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", simulator.ReferenceSessionID)); ok != 1 {
		t.Errorf("the long scrape did not get the session:\n%s", long.body)
	}
	if r := <-short; r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", simulator.ReferenceSessionID)) != 0 {
		t.Error("the short scrape, whose deadline was shorter than the server's latency, got the session")
	}
}
