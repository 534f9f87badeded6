package collector

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func encodeText(t *testing.T, fams []*dto.MetricFamily) string {
	t.Helper()
	var b bytes.Buffer
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

type fixedGatherer []*dto.MetricFamily

func (f fixedGatherer) Gather() ([]*dto.MetricFamily, error) { return f, nil }

// goldenSnapshots cover what a scrape can hold: several servers out of order, every status
// and an unknown one, unsorted IDs, names that sort differently from IDs, cached, failed and
// repeated sessions, invalid UTF-8, running and ended sessions, retrievals with and without
// expiry, and discovery that worked, failed or is off.
func goldenSnapshots(now time.Time) []*server.Snapshot {
	mk := func(id, name, status string, ended bool) server.SessionResult {
		s := &vb365.Session{ID: vb365.ID(id), Name: name, RetrievalID: "8a76872b-7f2c-4c50-95f4-92c4d41bc47c",
			CreationTime: now.Add(-time.Hour), Progress: 7, ProcessedObjects: 9, Type: "Retrieve", Status: status}
		if ended {
			s.EndTime = now.Add(-time.Minute)
		}
		return server.SessionResult{ID: vb365.ID(id), Session: s}
	}
	var every []server.SessionResult
	for i, st := range vb365.Statuses {
		r := mk(fmt.Sprintf("%08d-0000-4000-8000-000000000000", (i*5)%len(vb365.Statuses)), fmt.Sprintf("job %d", i%4), st, st != vb365.StatusRunning)
		r.Cached = i%2 == 0
		switch st {
		case vb365.StatusFailed:
			r.Log = &server.SessionLog{Errors: 2, Warnings: 1, Reason: &vb365.LogItem{Type: vb365.LogError,
				Message: `Failed to retrieve item "Inbox\Q3 report.xlsx": the archive tier blob is not available`}}
		case vb365.StatusWarning:
			r.Log = &server.SessionLog{Warnings: 3, Reason: &vb365.LogItem{Type: vb365.LogWarning, Message: "Throttled by Microsoft 365; retrying"}}
		case vb365.StatusStopped:
			r.Log = &server.SessionLog{} // read, but nothing says why
		}
		every = append(every, r)
	}
	cpu, mem := 37.5, 80.0
	failed := &vb365.JobSession{ID: "5e55i0n0-0000-4000-8000-000000000002", CreationTime: now.Add(-3 * time.Hour), EndTime: now.Add(-2 * time.Hour),
		Status: vb365.StatusFailed, RetryCount: 2, TransferredBytes: 1 << 30, ProcessedObjects: 1200}
	return []*server.Snapshot{
		{Server: "zeta", Up: true, Duration: 2 * time.Second,
			Jobs: []server.JobResult{
				{Job: vb365.Job{ID: "j0b00000-0000-4000-8000-000000000002", Name: "Exchange nightly", BackupType: "EntireOrganization",
					RepositoryID: "4e90a000-0000-4000-8000-000000000001", Enabled: true, LastRun: now.Add(-3 * time.Hour), NextRun: now.Add(21 * time.Hour), LastStatus: "Running"},
					LastFinished: failed, LastSuccessEnd: now.Add(-26 * time.Hour),
					Log: &server.SessionLog{Errors: 1, Reason: &vb365.LogItem{Type: vb365.LogError, Message: "Mailbox user7@contoso.example: access denied"}},
					Running: &vb365.JobSession{ID: "5e55i0n0-0000-4000-8000-000000000003", CreationTime: now.Add(-10 * time.Minute),
						Status: vb365.StatusRunning, Progress: 42, TransferredBytes: 1 << 20, ProcessingRate: 4096}},
				{Job: vb365.Job{ID: "j0b00000-0000-4000-8000-000000000001", Name: "SharePoint \xff", BackupType: "SelectedItems"}},
				{Job: vb365.Job{ID: "j0b00000-0000-4000-8000-000000000003", Name: "Teams", Enabled: true},
					LastFinished: &vb365.JobSession{ID: "5e55i0n0-0000-4000-8000-000000000004", CreationTime: now.Add(-2 * time.Hour),
						EndTime: now.Add(-time.Hour), Status: "Paused"}},
			},
			JobsDropped: 4, JobSessionsTruncated: 1,
			License: &vb365.License{Status: "Valid", Type: "Subscription", LicensedTo: "Contoso", Expires: now.Add(30 * 24 * time.Hour), Licensed: 500, Used: 480},
			Repositories: []vb365.Repository{
				{ID: "4e90a000-0000-4000-8000-000000000002", Name: "Object storage", OutOfSync: true},
				{ID: "4e90a000-0000-4000-8000-000000000001", Name: "Local", CapacityBytes: 1 << 40, FreeBytes: 1 << 36},
			},
			Proxies: []vb365.Proxy{
				{ID: "p0000000-0000-4000-8000-000000000002", Host: "proxy2.contoso.example", Status: "Offline", Maintenance: "Enabled", CPU: &cpu, Memory: &mem},
				{ID: "p0000000-0000-4000-8000-000000000001", Host: "proxy1.contoso.example", Status: "Online"},
			},
			ProxiesDropped: 1,
			Organizations:  goldenOrganizations(now), OrganizationsDropped: 2,
			Restores: &server.RestoreResult{
				Totals: []server.RestoreCount{{Organization: "contoso.onmicrosoft.com", Type: "Exchange", Result: "Failed", Count: 2},
					{Organization: "contoso.onmicrosoft.com", Type: "Exchange", Result: "Success", Count: 7},
					{Organization: "contoso.onmicrosoft.com", Type: "Exchange", Result: "Warning"}},
				Recent: []vb365.RestoreSession{{ID: "4e570000-0000-4000-8000-000000000001", Organization: "contoso.onmicrosoft.com", Type: "Exchange",
					Result: "Failed", State: "Stopped", CreationTime: now.Add(-time.Hour), EndTime: now.Add(-time.Minute)}},
				Running: []vb365.RestoreSession{{ID: "4e570000-0000-4000-8000-000000000002", Organization: "fabrikam.onmicrosoft.com", Type: "Teams",
					InitiatedBy: `FABRIKAM\helpdesk`, State: "Working", CreationTime: now.Add(-time.Minute)}},
				Dropped: 3,
			},
			Retrievals: []vb365.Retrieval{
				{ID: "c0ffee00-1234-4abc-8def-0123456789ab", Name: "Teams\xff", Type: "Teams", DataState: "Retrieving"},
				{ID: "8a76872b-7f2c-4c50-95f4-92c4d41bc47c", Name: "Exchange retrieval", Type: "Exchange", DataState: "Retrieved",
					LastStatus: "Failed", ExpirationTime: now.Add(time.Hour)},
			},
			RetrievalsDropped: 5,
			Discovery:         &server.DiscoveryResult{Sessions: 3, Dropped: 1},
			Collectors: []server.CollectorResult{{Name: "data_retrievals", Duration: time.Second / 4},
				{Name: "logs", Err: errors.New("log not read"), Duration: time.Second / 8}},
			Sessions: []server.SessionResult{
				mk("cccccccc-0000-4000-8000-000000000000", "alpha", "Success", true),
				mk("aaaaaaaa-0000-4000-8000-000000000000", "zulu", "Running", false),
				{ID: "bbbbbbbb-0000-4000-8000-000000000000", Err: &vb365.APIError{Endpoint: "session", StatusCode: 404}},
				mk("dddddddd-0000-4000-8000-000000000000", "bad \xff name", "Paused", true),
				mk("cccccccc-0000-4000-8000-000000000000", "alpha", "Success", true),
			}},
		{Server: "alpha", Up: false, Duration: time.Second, Err: errors.New("down"),
			Discovery: &server.DiscoveryResult{Err: errors.New("down")}, RetrievalsErr: errors.New("down"),
			Sessions: []server.SessionResult{{ID: "aaaaaaaa-0000-4000-8000-000000000000", Err: errors.New("down")}}},
		{Server: "mid", Up: true, Sessions: every},
		{Server: "empty", Up: true},
	}
}

// TestBuildGolden pins the whole output of one scrape. Run with -update after an intended
// change and review the diff of testdata/build.prom like code.
func TestBuildGolden(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fams := Build(goldenSnapshots(now), now, nil)
	got := encodeText(t, fams)
	const golden = "testdata/build.prom"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Build differs from %s (go test ./collector -run TestBuildGolden -update rewrites it):\n%s", golden, got)
	}
	// client_golang's own checks of every series (names, valid UTF-8, no duplicate series),
	// and its order: what Build serves is what a Registry would.
	normalized, err := (prometheus.Gatherers{fixedGatherer(fams)}).Gather()
	if err != nil {
		t.Errorf("client_golang rejects the output: %v", err)
	}
	if n := encodeText(t, normalized); n != got {
		t.Errorf("Build's order differs from a Registry's:\n%s", n)
	}
	problems, err := testutil.GatherAndLint(fixedGatherer(fams))
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// TestFamiliesListWhatBuildEmits keeps the table that documentation and the dashboard test
// read in step with what Build serves.
func TestFamiliesListWhatBuildEmits(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	emitted := map[string][]string{}
	for _, f := range Build(goldenSnapshots(now), now, nil) {
		var names []string
		for _, lp := range f.Metric[0].Label {
			names = append(names, lp.GetName())
		}
		emitted[f.GetName()] = names
	}
	for _, f := range Families() {
		if !slices.Equal(emitted[f.Name], f.Labels) {
			t.Errorf("%s: Families says labels %v, Build emits %v", f.Name, f.Labels, emitted[f.Name])
		}
		if !slices.IsSorted(f.Labels) {
			t.Errorf("%s: labels %v are not sorted by name", f.Name, f.Labels)
		}
		delete(emitted, f.Name)
	}
	for name := range emitted {
		t.Errorf("Build emits %s, which Families does not list", name)
	}
}

func TestBuildDropsRepeatedIDs(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	snap := goldenSnapshots(now)[0]
	snap.Retrievals = append(snap.Retrievals, snap.Retrievals[0])
	got := encodeText(t, Build([]*server.Snapshot{snap}, now, nil))
	if n := strings.Count(got, `vb365_data_retrieval_session_scrape_success{server="zeta",session_id="cccccccc-`); n != 1 {
		t.Errorf("repeated session emitted %d times:\n%s", n, got)
	}
	if n := strings.Count(got, `vb365_data_retrieval_info{data_state="Retrieving"`); n != 1 {
		t.Errorf("repeated retrieval emitted %d times:\n%s", n, got)
	}
}

const retrievalAndDiscoveryNames = "vb365_data_retrieval_info vb365_data_retrieval_last_status vb365_data_retrieval_expiration_timestamp_seconds " +
	"vb365_discovery_sessions vb365_discovery_sessions_dropped vb365_discovery_scrape_success"

func TestDiscoveryMetricsWhenOffOrFailing(t *testing.T) {
	off := &server.Snapshot{Server: "s", Up: true}
	if n, err := testutil.GatherAndCount(New(context.Background(), []Source{staticSource{off}}, nil), strings.Fields(retrievalAndDiscoveryNames)...); err != nil || n != 0 {
		t.Errorf("%d discovery/retrieval series with discovery off and no retrievals, want 0", n)
	}
	failing := &server.Snapshot{Server: "s", Up: true, Discovery: &server.DiscoveryResult{Err: errors.New("HTTP 500")},
		RetrievalsErr: errors.New("HTTP 503")}
	c := New(context.Background(), []Source{staticSource{failing}}, nil)
	if err := testutil.GatherAndCompare(c, strings.NewReader(`
# HELP vb365_discovery_scrape_success 1 when session discovery read the session list in this scrape, else 0. Absent when discovery is off.
# TYPE vb365_discovery_scrape_success gauge
vb365_discovery_scrape_success{server="s"} 0
`), strings.Fields(retrievalAndDiscoveryNames)...); err != nil {
		t.Error(err)
	}
}

func TestMergeConcatenatesInNameOrder(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	self := prometheus.NewRegistry()
	cnt := prometheus.NewCounter(prometheus.CounterOpts{Name: "vb365_exporter_api_requests_total", Help: "h"})
	cnt.Add(3)
	self.MustRegister(cnt)
	snap := &server.Snapshot{Server: "s", Up: true, Sessions: goldenSnapshots(now)[0].Sessions[:1]}
	c := New(context.Background(), []Source{staticSource{snap}}, nil)
	c.now = func() time.Time { return now }
	want, err := prometheus.Gatherers{c, self}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Merge(c, self).Gather()
	if err != nil {
		t.Fatal(err)
	}
	if w, g := encodeText(t, want), encodeText(t, got); w != g {
		t.Errorf("Merge differs from prometheus.Gatherers.\nGatherers:\n%s\nMerge:\n%s", w, g)
	}

	// The same name from two gatherers: series concatenated when the types agree, an error
	// when they do not.
	gauge, counter := dto.MetricType_GAUGE, dto.MetricType_COUNTER
	name := "x"
	v := 1.0
	m := &dto.Metric{Gauge: &dto.Gauge{Value: &v}}
	fams, err := Merge(fixedGatherer{{Name: &name, Type: &gauge, Metric: []*dto.Metric{m}}},
		fixedGatherer{{Name: &name, Type: &gauge, Metric: []*dto.Metric{m}}}).Gather()
	if err != nil || len(fams) != 1 || len(fams[0].Metric) != 2 {
		t.Errorf("same name and type: %v, %v", fams, err)
	}
	if _, err := Merge(fixedGatherer{{Name: &name, Type: &gauge, Metric: []*dto.Metric{m}}},
		fixedGatherer{{Name: &name, Type: &counter, Metric: []*dto.Metric{m}}}).Gather(); err == nil {
		t.Error("same name with two types: no error")
	}
}

// TestGoldenPassesPromtool lints the golden output with Prometheus' own linter, so a family
// added against the naming guide fails here and not only in a full scrape.
func TestGoldenPassesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found in CI; .ci/run must install it (apt-get install -y prometheus)")
		}
		t.Skip("promtool not installed; run: apt-get install -y prometheus")
	}
	f, err := os.Open("testdata/build.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// A log that could not be read gives a reason that says so, with an empty log_type, and no
// log item counts (they are unknown, not zero).
func TestUnreadLogSaysSo(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sess := vb365.Session{ID: "aaaaaaaa-0000-4000-8000-000000000001", Name: "s", Status: vb365.StatusFailed, Type: "Retrieve",
		CreationTime: now.Add(-time.Hour), EndTime: now.Add(-time.Minute)}
	snap := &server.Snapshot{Server: "s", Up: true, Sessions: []server.SessionResult{{ID: sess.ID, Session: &sess,
		Log: &server.SessionLog{Err: errors.New("HTTP 500"), Reason: &vb365.LogItem{Message: "log could not be read: HTTP 500"}}}}}
	got := encodeText(t, Build([]*server.Snapshot{snap}, now, nil))
	if !strings.Contains(got, `vb365_data_retrieval_session_reason_info{log_type="",message="log could not be read: HTTP 500"`) ||
		strings.Contains(got, "vb365_data_retrieval_session_log_items{") {
		t.Errorf("unread log:\n%s", got)
	}
}
