package collector

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// A server listing 100,000 data retrievals: the series follow max_retrievals, the rest is
// the dropped gauge, and the guard is logged once over several scrapes.
func TestMaxRetrievalsGuardAgainstSimulator(t *testing.T) {
	sim := simulator.New(simulator.Options{Username: "u", Password: "p"})
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRetrievals, Kind: simulator.FaultHugeList, Entries: 100000}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var logs bytes.Buffer
	noCache := config.Duration(0)
	tgt, err := server.New(&config.ServerConfig{Name: "prod", URL: srv.URL, APIVersion: "v7", Username: "u", Password: "p", CacheTTL: &noCache,
		MaxRetrievals: 50, Collect: []string{config.CollectDataRetrievals}}, server.Options{Logger: log.NewLogfmtLogger(log.NewSyncWriter(&logs))})
	if err != nil {
		t.Fatal(err)
	}
	for scrape := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		fams, err := New(ctx, []Source{tgt}, nil).Gather()
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		counts, values := map[string]int{}, map[string]float64{}
		for _, f := range fams {
			counts[f.GetName()] = len(f.Metric)
			if len(f.Metric) == 1 {
				values[f.GetName()] = f.Metric[0].GetGauge().GetValue()
			}
		}
		if counts["vb365_data_retrieval_info"] != 50 || counts["vb365_data_retrieval_last_status"] != 300 {
			t.Errorf("scrape %d: %d info and %d status series, want 50 and 300", scrape, counts["vb365_data_retrieval_info"], counts["vb365_data_retrieval_last_status"])
		}
		if values["vb365_data_retrievals_dropped"] != 99950 {
			t.Errorf("scrape %d: dropped = %v, want 99950", scrape, values["vb365_data_retrievals_dropped"])
		}
	}
	if n := sim.Stats().ByEndpoint["retrievals"]; n != 3 {
		t.Errorf("%d retrieval reads, want one a scrape (cache_ttl 0)", n)
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "dropped=99950") {
		t.Errorf("%d lines about max_retrievals over 3 scrapes, want 1:\n%s", n, logs.String())
	}
}
