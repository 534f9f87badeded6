package floor

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestScrapeWritesEverySeries(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if err := Scrape(&b, "s", Sessions(10, now, func(i int) bool { return i == 0 }), now); err != nil {
		t.Fatal(err)
	}
	// 10 sessions x 12 series + 9 end times + up + duration.
	if got := strings.Count(b.String(), "\nvb365_"); got != 10*12+9+2 {
		t.Errorf("got %d series, want %d:\n%s", got, 10*12+9+2, b.String())
	}
}

func BenchmarkLibraryFloor(b *testing.B) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{1000, 10000} {
		sessions := Sessions(n, now, func(i int) bool { return i%100 == 0 })
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := Scrape(&buf, "bench", sessions, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/session")
		})
	}
}
