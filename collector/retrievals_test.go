package collector

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/target"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const discoveryMetricNames = "vb365_data_retrieval_info vb365_data_retrieval_last_status vb365_data_retrieval_expiration_timestamp_seconds vb365_data_retrievals_dropped " +
	"vb365_discovery_sessions vb365_discovery_sessions_dropped vb365_discovery_scrape_success"

func TestEmitRetrievalsAndDiscoveryExact(t *testing.T) {
	snap := &target.Snapshot{Server: "prod", Up: true,
		Retrievals: []vb365.Retrieval{
			{ID: "8a76872b-7f2c-4c50-95f4-92c4d41bc47c", Name: "Exchange retrieval", Type: "Exchange", DataState: "Retrieved",
				LastStatus: "Failed", ExpirationTime: time.Date(2022, 2, 4, 19, 52, 36, 500_000_000, time.UTC)},
			{ID: "c0ffee00-1234-4abc-8def-0123456789ab", Name: "Teams\xff", Type: "Teams", DataState: "Retrieving"},
		},
		RetrievalsDropped: 7,
		Discovery:         &target.DiscoveryResult{Sessions: 10000, Dropped: 42},
	}
	const want = `
# HELP vb365_data_retrieval_expiration_timestamp_seconds When the retrieved data stops being available (expirationTime), in Unix seconds; absent when it has no expiration.
# TYPE vb365_data_retrieval_expiration_timestamp_seconds gauge
vb365_data_retrieval_expiration_timestamp_seconds{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="prod"} 1.6440043565e+09
# HELP vb365_data_retrieval_info Data retrieval job metadata: name, type (Exchange, OneDrive, SharePoint, Teams) and data state (Retrieving, Retrieved, ChangingAvailabilityPeriod, Removing). Always 1. Join on retrieval_id with vb365_data_retrieval_session_info.
# TYPE vb365_data_retrieval_info gauge
vb365_data_retrieval_info{data_state="Retrieved",name="Exchange retrieval",retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="prod",type="Exchange"} 1
vb365_data_retrieval_info{data_state="Retrieving",name="Teams�",retrieval_id="c0ffee00-1234-4abc-8def-0123456789ab",server="prod",type="Teams"} 1
# HELP vb365_data_retrieval_last_status Status of the data retrieval job's latest session as a state set: 1 for the current status (Stopped, Running, Success, Failed, Warning, NotConfigured), 0 for the others.
# TYPE vb365_data_retrieval_last_status gauge
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="prod",status="Failed"} 1
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="prod",status="NotConfigured"} 0
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="prod",status="Running"} 0
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="prod",status="Stopped"} 0
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="prod",status="Success"} 0
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="prod",status="Warning"} 0
vb365_data_retrieval_last_status{retrieval_id="c0ffee00-1234-4abc-8def-0123456789ab",server="prod",status="Failed"} 0
vb365_data_retrieval_last_status{retrieval_id="c0ffee00-1234-4abc-8def-0123456789ab",server="prod",status="NotConfigured"} 0
vb365_data_retrieval_last_status{retrieval_id="c0ffee00-1234-4abc-8def-0123456789ab",server="prod",status="Running"} 0
vb365_data_retrieval_last_status{retrieval_id="c0ffee00-1234-4abc-8def-0123456789ab",server="prod",status="Stopped"} 0
vb365_data_retrieval_last_status{retrieval_id="c0ffee00-1234-4abc-8def-0123456789ab",server="prod",status="Success"} 0
vb365_data_retrieval_last_status{retrieval_id="c0ffee00-1234-4abc-8def-0123456789ab",server="prod",status="Warning"} 0
# HELP vb365_data_retrievals_dropped Data retrievals the server listed in this scrape beyond max_retrievals; they are not exported. Absent when the data retrievals could not be read or there are none.
# TYPE vb365_data_retrievals_dropped gauge
vb365_data_retrievals_dropped{server="prod"} 7
# HELP vb365_discovery_scrape_success 1 when session discovery read the session list in this scrape, else 0. Absent when discovery is off.
# TYPE vb365_discovery_scrape_success gauge
vb365_discovery_scrape_success{server="prod"} 1
# HELP vb365_discovery_sessions Sessions selected by session discovery in this scrape (after the max_sessions guard), including configured ones it also found. Absent when discovery is off or the session list could not be read.
# TYPE vb365_discovery_sessions gauge
vb365_discovery_sessions{server="prod"} 10000
# HELP vb365_discovery_sessions_dropped Sessions discovery selected in this scrape but dropped because there were more than max_sessions; the oldest are dropped. Absent when discovery is off or the session list could not be read.
# TYPE vb365_discovery_sessions_dropped gauge
vb365_discovery_sessions_dropped{server="prod"} 42
`
	c := New(context.Background(), []Source{staticSource{snap}}, nil)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), strings.Fields(discoveryMetricNames)...); err != nil {
		t.Error(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("pedantic registry rejects the metrics: %v", err)
	}
}

func TestDiscoveryMetricsWhenOffOrFailing(t *testing.T) {
	off := &target.Snapshot{Server: "s", Up: true}
	if n := testutil.CollectAndCount(New(context.Background(), []Source{staticSource{off}}, nil), strings.Fields(discoveryMetricNames)...); n != 0 {
		t.Errorf("%d discovery/retrieval series with discovery off and no retrievals, want 0", n)
	}
	failing := &target.Snapshot{Server: "s", Up: true, Discovery: &target.DiscoveryResult{Err: errors.New("HTTP 500")},
		RetrievalsErr: errors.New("HTTP 503")}
	c := New(context.Background(), []Source{staticSource{failing}}, nil)
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP vb365_discovery_scrape_success 1 when session discovery read the session list in this scrape, else 0. Absent when discovery is off.
# TYPE vb365_discovery_scrape_success gauge
vb365_discovery_scrape_success{server="s"} 0
`), strings.Fields(discoveryMetricNames)...); err != nil {
		t.Error(err)
	}
}

func TestDescsListDiscoveryMetrics(t *testing.T) {
	var all strings.Builder
	for _, d := range Descs() {
		all.WriteString(d.String())
	}
	for _, name := range strings.Fields(discoveryMetricNames) {
		if !strings.Contains(all.String(), `"`+name+`"`) {
			t.Errorf("Descs() lacks %s", name)
		}
	}
}

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
	tgt, err := target.New(target.Config{Name: "prod", URL: srv.URL, APIVersion: "v7", Username: "u", Password: func() string { return "p" },
		MaxRetrievals: 50}, target.Options{Logger: log.NewLogfmtLogger(log.NewSyncWriter(&logs))})
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
