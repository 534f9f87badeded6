package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vb365-exporter/vb365_exporter/bench/floor"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// BenchmarkMetricsHandler is one warm scrape of the whole /metrics handler against an
// in-process simulator without latency: 1% of the sessions running (read by ID), the rest
// cached. Its ns/session is the exporter's CPU per session, to hold against
// BenchmarkLibraryFloor in bench/floor.
func BenchmarkMetricsHandler(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			sim := simulator.New(simulator.Options{Username: simUser, Password: simPassword})
			now := time.Now()
			ids := make([]vb365.ID, n)
			for i, v := range floor.Sessions(n, now, func(i int) bool { return i%100 == 0 }) {
				if err := sim.AddSession(simulator.Session{ID: string(v.ID), Name: v.Name, RetrievalID: string(v.RetrievalID), CreationTime: v.CreationTime,
					EndTime: v.EndTime, Progress: int32(v.Progress), ProcessedObjects: v.ProcessedObjects, Type: v.Type, Status: v.Status}); err != nil {
					b.Fatal(err)
				}
				ids[i] = v.ID
			}
			cert, caPEM, err := simulator.GenerateCert("127.0.0.1")
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(sim)
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			srv.StartTLS()
			defer srv.Close()
			dir := b.TempDir()
			ca, pw := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "pw")
			cfg := filepath.Join(dir, "config.yml")
			var c strings.Builder
			fmt.Fprintf(&c, "servers:\n  - name: bench\n    url: %s\n    username: '%s'\n    password_file: %s\n    tls_config:\n      ca_file: %s\n    max_concurrent_requests: 16\n    sessions:\n", srv.URL, simUser, pw, ca)
			for _, id := range ids {
				fmt.Fprintf(&c, "      - %s\n", id)
			}
			for f, data := range map[string]string{ca: string(caPEM), pw: simPassword, cfg: c.String()} {
				if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
					b.Fatal(err)
				}
			}
			opts, err := parseFlags([]string{"--config.file=" + cfg}, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			e := newExporter(opts, log.NewNopLogger())
			if err := e.reload(); err != nil {
				b.Fatal(err)
			}
			h := e.metricsHandler()
			w := &bufferWriter{header: http.Header{}}
			scrape := func() {
				w.body.Reset()
				w.code = 0
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if w.code != http.StatusOK || !bytes.Contains(w.body.Bytes(), []byte("vb365_up{server=\"bench\"} 1")) {
					b.Fatalf("scrape failed: %d", w.code)
				}
			}
			scrape() // fills the cache
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				scrape()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/session")
		})
	}
}

// bufferWriter is a ResponseWriter whose buffer is reused across scrapes, so the benchmark
// measures the handler rather than the growth of a fresh recorder's buffer.
type bufferWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header { return w.header }
func (w *bufferWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *bufferWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(p)
}
