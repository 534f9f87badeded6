package collector

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/vb365-exporter/vb365_exporter/target"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

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

// gatherSnapshots are shapes that test the ordering and edge cases of the direct path:
// several servers out of order, unsorted IDs, names that sort differently from IDs, equal
// names, failures, an unknown status, invalid UTF-8, running and ended sessions.
func gatherSnapshots(now time.Time) []*target.Snapshot {
	mk := func(id, name, status string, ended bool) target.SessionResult {
		s := &vb365.Session{ID: id, Name: name, RetrievalID: "8a76872b-7f2c-4c50-95f4-92c4d41bc47c",
			CreationTime: now.Add(-time.Hour), Progress: 7, ProcessedObjects: 9, Type: "Retrieve", Status: status}
		if ended {
			s.EndTime = now.Add(-time.Minute)
		}
		return target.SessionResult{ID: id, Session: s}
	}
	var many []target.SessionResult
	for i := range 50 {
		many = append(many, mk(fmt.Sprintf("%08d-0000-4000-8000-000000000000", (i*37)%50), fmt.Sprintf("job %d", i%7), vb365.Statuses[i%6], i%3 != 0))
	}
	return []*target.Snapshot{
		{Server: "zeta", Up: true, Duration: 2 * time.Second,
			Retrievals: []vb365.Retrieval{
				{ID: "8a76872b-7f2c-4c50-95f4-92c4d41bc47c", Name: "Exchange retrieval", Type: "Exchange", DataState: "Retrieved",
					LastStatus: "Failed", ExpirationTime: now.Add(time.Hour)},
				{ID: "c0ffee00-1234-4abc-8def-0123456789ab", Name: "Teams\xff", Type: "Teams", DataState: "Retrieving"},
			},
			Discovery: &target.DiscoveryResult{Sessions: 3, Dropped: 1},
			Sessions: []target.SessionResult{
				mk("cccccccc-0000-4000-8000-000000000000", "alpha", "Success", true),
				mk("aaaaaaaa-0000-4000-8000-000000000000", "zulu", "Running", false),
				{ID: "bbbbbbbb-0000-4000-8000-000000000000", Err: &vb365.APIError{Endpoint: "session", StatusCode: 404}},
				mk("dddddddd-0000-4000-8000-000000000000", "bad \xff name", "Paused", true),
			}},
		{Server: "alpha", Up: false, Duration: time.Second, Err: fmt.Errorf("down"),
			Discovery: &target.DiscoveryResult{Err: fmt.Errorf("down")}, Sessions: []target.SessionResult{
				{ID: "aaaaaaaa-0000-4000-8000-000000000000", Err: fmt.Errorf("down")},
			}},
		{Server: "mid", Up: true, Sessions: many},
		{Server: "empty", Up: true},
	}
}

func TestGatherMatchesRegistry(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	snaps := gatherSnapshots(now)
	for n := 1; n <= len(snaps); n++ {
		var sources []Source
		for _, s := range snaps[:n] {
			sources = append(sources, staticSource{s})
		}
		c := New(context.Background(), sources, nil)
		c.now = func() time.Time { return now }
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		want, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if w, g := encodeText(t, want), encodeText(t, got); w != g {
			t.Errorf("%d servers: Gather differs from a Registry over Collect.\nregistry:\n%s\ngather:\n%s", n, w, g)
		}
	}
}

func TestGatherDropsRepeatedSessionIDs(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	snap := gatherSnapshots(now)[0]
	snap.Sessions = append(snap.Sessions, snap.Sessions[0])
	got := encodeText(t, Families([]*target.Snapshot{snap}, now, nil))
	if n := strings.Count(got, `vb365_data_retrieval_session_scrape_success{server="zeta",session_id="cccccccc-`); n != 1 {
		t.Errorf("repeated session emitted %d times:\n%s", n, got)
	}
}

type fixedGatherer []*dto.MetricFamily

func (f fixedGatherer) Gather() ([]*dto.MetricFamily, error) { return f, nil }

func TestMergeConcatenatesInNameOrder(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	self := prometheus.NewRegistry()
	cnt := prometheus.NewCounter(prometheus.CounterOpts{Name: "vb365_exporter_api_requests_total", Help: "h"})
	cnt.Add(3)
	self.MustRegister(cnt)
	c := New(context.Background(), []Source{staticSource{gatherSnapshots(now)[0]}}, nil)
	c.now = func() time.Time { return now }
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	want, err := prometheus.Gatherers{reg, self}.Gather()
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
