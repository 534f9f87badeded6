package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

func TestPercentileAndMedian(t *testing.T) {
	var d []time.Duration
	for i := 12; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(d, 50); got != 6*time.Millisecond {
		t.Errorf("median of 1..12 ms = %v, want 6ms (nearest rank)", got)
	}
	if got := percentile(d, 95); got != 12*time.Millisecond {
		t.Errorf("p95 of 12 samples = %v, want the largest", got)
	}
	if got := medianInt([]int64{5, 1, 3, 100}); got != 4 {
		t.Errorf("median of 1,3,5,100 = %v, want 4", got)
	}
}

func TestProcReadings(t *testing.T) {
	burn := time.Now()
	for time.Since(burn) < 50*time.Millisecond {
	}
	cpu, err := cpuSeconds(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Errorf("own CPU seconds = %v, %v; want > 0 after spinning", cpu, err)
	}
	rss, err := peakRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Errorf("own peak RSS = %d, %v; want at least 1 MiB", rss, err)
	}
}

func TestTableVerdicts(t *testing.T) {
	tb := &table{}
	tb.row("fast enough", "1s", "floor 1s", 1.0, "<= 1.15", true)
	tb.row("too slow", "2s", "floor 1s", 2.0, "<= 1.15", false)
	var b bytes.Buffer
	tb.print(&b)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[2], "| MET") || !strings.Contains(lines[3], "NOT MET") || !strings.Contains(lines[3], "2.00") {
		t.Errorf("table:\n%s", b.String())
	}
}

// The 10,000-session scenarios must hold logs for the exporter to read: every Failed and
// Warning session has one with the item its reason comes from, and no other session has one.
func TestSessionLog(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		status, want string
	}{
		{simulator.StatusFailed, simulator.LogError},
		{simulator.StatusWarning, simulator.LogWarning},
		{simulator.StatusSuccess, ""},
		{simulator.StatusRunning, ""},
	} {
		log := sessionLog(simulator.Session{Status: tc.status, CreationTime: now, EndTime: now.Add(time.Hour)})
		if tc.want == "" {
			if log != nil {
				t.Errorf("%s session has a log: %+v", tc.status, log)
			}
			continue
		}
		has := false
		for _, it := range log {
			has = has || it.Type == tc.want
		}
		if !has {
			t.Errorf("%s session's log has no %s item: %+v", tc.status, tc.want, log)
		}
		s := simulator.New(simulator.Options{Username: "u", Password: "p"})
		id := "668f478c-0326-440a-8bdf-000000000001"
		if err := s.AddSession(simulator.Session{ID: id, RetrievalID: "668f478c-0326-440a-8bdf-000000000002", Type: simulator.TypeRetrieve,
			Status: tc.status, CreationTime: now, EndTime: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetLogItems(id, log); err != nil {
			t.Errorf("%s: the simulator refuses the log: %v", tc.status, err)
		}
	}
}
