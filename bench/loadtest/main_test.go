package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
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
