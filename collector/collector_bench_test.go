package collector

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/vb365-exporter/vb365_exporter/bench/floor"
	"github.com/vb365-exporter/vb365_exporter/server"
)

type fixedSource struct{ s *server.Snapshot }

func (f fixedSource) Snapshot(context.Context) *server.Snapshot { return f.s }

func benchSnapshot(n int, now time.Time) *server.Snapshot {
	sessions := floor.Sessions(n, now, func(i int) bool { return i%100 == 0 })
	snap := &server.Snapshot{Server: "bench", Up: true, Duration: 100 * time.Millisecond, Sessions: make([]server.SessionResult, n)}
	for i := range sessions {
		snap.Sessions[i] = server.SessionResult{ID: sessions[i].ID, Session: &sessions[i], Cached: i%100 != 0}
	}
	return snap
}

// BenchmarkCollectorScrape is the metric path of one scrape from snapshots already read, as
// the /metrics handler runs it: Collector.Gather, then text encoding. Compare ns/session
// with BenchmarkLibraryFloor in bench/floor.
func BenchmarkCollectorScrape(b *testing.B) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, path := range []string{"gather"} {
		for _, n := range []int{1000, 10000} {
			src := fixedSource{benchSnapshot(n, now)}
			b.Run(fmt.Sprintf("path=%s/sessions=%d", path, n), func(b *testing.B) {
				var buf bytes.Buffer
				b.ReportAllocs()
				for b.Loop() {
					buf.Reset()
					mfs, err := New(context.Background(), []Source{src}, nil).Gather()
					if err != nil {
						b.Fatal(err)
					}
					enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
					for _, mf := range mfs {
						if err := enc.Encode(mf); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/session")
			})
		}
	}
}
