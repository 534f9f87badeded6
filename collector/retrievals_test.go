package collector

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vb365-exporter/vb365_exporter/target"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const discoveryMetricNames = "vb365_data_retrieval_info vb365_data_retrieval_last_status vb365_data_retrieval_expiration_timestamp_seconds " +
	"vb365_discovery_sessions vb365_discovery_sessions_dropped vb365_discovery_scrape_success"

func TestEmitRetrievalsAndDiscoveryExact(t *testing.T) {
	snap := &target.Snapshot{Server: "prod", Up: true,
		Retrievals: []vb365.Retrieval{
			{ID: "8a76872b-7f2c-4c50-95f4-92c4d41bc47c", Name: "Exchange retrieval", Type: "Exchange", DataState: "Retrieved",
				LastStatus: "Failed", ExpirationTime: time.Date(2022, 2, 4, 19, 52, 36, 500_000_000, time.UTC)},
			{ID: "c0ffee00-1234-4abc-8def-0123456789ab", Name: "Teams\xff", Type: "Teams", DataState: "Retrieving"},
		},
		Discovery: &target.DiscoveryResult{Sessions: 10000, Dropped: 42},
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
