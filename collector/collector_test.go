package collector

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

type staticSource struct{ snap *server.Snapshot }

func (s staticSource) Snapshot(context.Context) *server.Snapshot { return s.snap }

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := vb365.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestBuildExactValues(t *testing.T) {
	now := time.Date(2022, 1, 28, 20, 0, 0, 0, time.UTC)
	snap := &server.Snapshot{
		Server: "prod", Up: true, Duration: 1500 * time.Millisecond,
		Sessions: []server.SessionResult{
			{ID: "668f478c-0326-440a-8bdf-58cf39163ea2", Session: &vb365.Session{
				ID: "668f478c-0326-440a-8bdf-58cf39163ea2", Name: "Exchange data retrieval",
				RetrievalID:  "8a76872b-7f2c-4c50-95f4-92c4d41bc47c",
				CreationTime: mustTime(t, "2022-01-28T20:52:36.9177053+01:00"),
				EndTime:      mustTime(t, "2022-01-28T20:56:17.7513457+01:00"),
				Progress:     5, ProcessedObjects: 37, Type: "Retrieve", Status: "Success",
			}},
			{ID: "11111111-2222-3333-4444-555555555555", Session: &vb365.Session{
				ID: "11111111-2222-3333-4444-555555555555", Name: "Teams <b>", RetrievalID: "r2",
				CreationTime: now.Add(-90 * time.Second), Progress: 3, ProcessedObjects: 10,
				Type: "RetrievalRemoving", Status: "Running",
			}},
			{ID: "99999999-2222-3333-4444-555555555555", Err: &vb365.APIError{Endpoint: "session", StatusCode: 404}},
		},
	}
	const want = `
# HELP vb365_data_retrieval_session_creation_timestamp_seconds When the data retrieval session was created (creationTime), in Unix seconds.
# TYPE vb365_data_retrieval_session_creation_timestamp_seconds gauge
vb365_data_retrieval_session_creation_timestamp_seconds{server="prod",session_id="11111111-2222-3333-4444-555555555555"} 1.64339991e+09
vb365_data_retrieval_session_creation_timestamp_seconds{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 1.6433995569177053e+09
# HELP vb365_data_retrieval_session_duration_seconds Duration of the data retrieval session: endTime - creationTime, or now - creationTime while it has not ended.
# TYPE vb365_data_retrieval_session_duration_seconds gauge
vb365_data_retrieval_session_duration_seconds{server="prod",session_id="11111111-2222-3333-4444-555555555555"} 90
vb365_data_retrieval_session_duration_seconds{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 220.8336404
# HELP vb365_data_retrieval_session_end_timestamp_seconds When the data retrieval session ended (endTime), in Unix seconds; absent while it has not ended.
# TYPE vb365_data_retrieval_session_end_timestamp_seconds gauge
vb365_data_retrieval_session_end_timestamp_seconds{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 1.6433997777513456e+09
# HELP vb365_data_retrieval_session_info Data retrieval session metadata: name, ID of the retrieval job (retrievalId) and session type (Retrieve, RetrievalChangeAvailabilityPeriodDays, RetrievalRemoving). Always 1.
# TYPE vb365_data_retrieval_session_info gauge
vb365_data_retrieval_session_info{name="Exchange data retrieval",retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",type="Retrieve"} 1
vb365_data_retrieval_session_info{name="Teams <b>",retrieval_id="r2",server="prod",session_id="11111111-2222-3333-4444-555555555555",type="RetrievalRemoving"} 1
# HELP vb365_data_retrieval_session_processed_objects Number of items processed by the retrieval job (processedObjects): a count.
# TYPE vb365_data_retrieval_session_processed_objects gauge
vb365_data_retrieval_session_processed_objects{server="prod",session_id="11111111-2222-3333-4444-555555555555"} 10
vb365_data_retrieval_session_processed_objects{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 37
# HELP vb365_data_retrieval_session_progress The session's progress exactly as VB365 reports it (progress). Veeam's API reference documents it as the number of objects processed during the session: a count, not a percentage.
# TYPE vb365_data_retrieval_session_progress gauge
vb365_data_retrieval_session_progress{server="prod",session_id="11111111-2222-3333-4444-555555555555"} 3
vb365_data_retrieval_session_progress{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 5
# HELP vb365_data_retrieval_session_scrape_success 1 when the data retrieval session's data was read, else 0 (not found, error, timeout). A finished session (terminal status and an end time) is served from the exporter's cache for cache_ttl before it is read again; a running one is read every scrape.
# TYPE vb365_data_retrieval_session_scrape_success gauge
vb365_data_retrieval_session_scrape_success{server="prod",session_id="11111111-2222-3333-4444-555555555555"} 1
vb365_data_retrieval_session_scrape_success{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 1
vb365_data_retrieval_session_scrape_success{server="prod",session_id="99999999-2222-3333-4444-555555555555"} 0
# HELP vb365_data_retrieval_session_status Status of the data retrieval session as a state set: 1 for the current status (Stopped, Running, Success, Failed, Warning, NotConfigured), 0 for the others.
# TYPE vb365_data_retrieval_session_status gauge
vb365_data_retrieval_session_status{server="prod",session_id="11111111-2222-3333-4444-555555555555",status="Failed"} 0
vb365_data_retrieval_session_status{server="prod",session_id="11111111-2222-3333-4444-555555555555",status="NotConfigured"} 0
vb365_data_retrieval_session_status{server="prod",session_id="11111111-2222-3333-4444-555555555555",status="Running"} 1
vb365_data_retrieval_session_status{server="prod",session_id="11111111-2222-3333-4444-555555555555",status="Stopped"} 0
vb365_data_retrieval_session_status{server="prod",session_id="11111111-2222-3333-4444-555555555555",status="Success"} 0
vb365_data_retrieval_session_status{server="prod",session_id="11111111-2222-3333-4444-555555555555",status="Warning"} 0
vb365_data_retrieval_session_status{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Failed"} 0
vb365_data_retrieval_session_status{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="NotConfigured"} 0
vb365_data_retrieval_session_status{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Running"} 0
vb365_data_retrieval_session_status{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Stopped"} 0
vb365_data_retrieval_session_status{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Success"} 1
vb365_data_retrieval_session_status{server="prod",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Warning"} 0
# HELP vb365_scrape_duration_seconds Time this scrape spent reading the VB365 server.
# TYPE vb365_scrape_duration_seconds gauge
vb365_scrape_duration_seconds{server="prod"} 1.5
# HELP vb365_up 1 when the exporter authenticated and the VB365 REST API answered during this scrape, else 0.
# TYPE vb365_up gauge
vb365_up{server="prod"} 1
`
	c := New(context.Background(), []Source{staticSource{snap}}, nil)
	c.now = func() time.Time { return now }
	if err := testutil.GatherAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestUnknownStatusAllZeroAndWarnsOnce(t *testing.T) {
	var logs bytes.Buffer
	logger := log.NewLogfmtLogger(&logs)
	sess := &vb365.Session{ID: "a", CreationTime: time.Unix(0, 0), Status: "Hibernating"}
	snap := &server.Snapshot{Server: "s", Up: true, Sessions: []server.SessionResult{{ID: "a", Session: sess}}}
	for range 3 {
		for _, mf := range Build([]*server.Snapshot{snap}, time.Now(), logger) {
			if mf.GetName() != "vb365_data_retrieval_session_status" {
				continue
			}
			if len(mf.Metric) != 6 {
				t.Errorf("%d status series, want 6", len(mf.Metric))
			}
			for _, m := range mf.Metric {
				if m.GetGauge().GetValue() != 0 {
					t.Errorf("status series %v = 1 for an unknown status", m.GetLabel())
				}
			}
		}
	}
	if n := strings.Count(logs.String(), "unknown data retrieval session status"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "status=Hibernating") {
		t.Errorf("warning does not name the status: %s", logs.String())
	}
}

func TestFailedSessionHasOnlyScrapeSuccess(t *testing.T) {
	snap := &server.Snapshot{Server: "s", Err: errors.New("down"),
		Sessions: []server.SessionResult{{ID: "a", Err: errors.New("timeout")}}}
	c := New(context.Background(), []Source{staticSource{snap}}, nil)
	if n, err := testutil.GatherAndCount(c); err != nil || n != 3 {
		t.Errorf("%d series, want up, scrape duration and one scrape_success", n)
	}
	if err := testutil.GatherAndCompare(c, strings.NewReader(`
# HELP vb365_up 1 when the exporter authenticated and the VB365 REST API answered during this scrape, else 0.
# TYPE vb365_up gauge
vb365_up{server="s"} 0
`), "vb365_up"); err != nil {
		t.Error(err)
	}
}

func TestInvalidUTF8NameDoesNotBreakScrape(t *testing.T) {
	sess := &vb365.Session{ID: "a", Name: "bad\xff", CreationTime: time.Unix(0, 0), Status: "Success"}
	snap := &server.Snapshot{Server: "s", Up: true, Sessions: []server.SessionResult{{ID: "a", Session: sess}}}
	// prometheus.Gatherers runs client_golang's checks of every series (valid UTF-8 among them).
	if _, err := (prometheus.Gatherers{New(context.Background(), []Source{staticSource{snap}}, nil)}).Gather(); err != nil {
		t.Fatal(err)
	}
}
