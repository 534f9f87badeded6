package server_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/vb365-exporter/vb365_exporter/collector"
	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

func TestConcurrentSnapshotsShareCalls(t *testing.T) {
	clk := newClock()
	srv := startServer(t, simulator.Options{Now: clk.Now})
	ids := addSessions(t, srv.sim, clk.Now(), 6, func(int) bool { return true })
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, CacheTTL: ttl(time.Hour)}, server.Options{Now: clk.Now})
	snapshot(t, tg) // logs in, so both measurements below are of steady-state scrapes

	// Slow answers keep the first scrape in flight while the others arrive. At 300 ms a
	// scraper the scheduler held back that long on a loaded machine (-race, -count=2,
	// every package at once) arrived after the read and made its own.
	if err := srv.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointAny, Kind: simulator.FaultLatency, Latency: time.Second}); err != nil {
		t.Fatal(err)
	}
	srv.sim.ResetStats()
	snapshot(t, tg)
	one := srv.sim.Stats().Total
	if one == 0 {
		t.Fatal("a scrape made no API request")
	}

	srv.sim.ResetStats()
	const scrapers = 4
	snaps := make([]*server.Snapshot, scrapers)
	var wg sync.WaitGroup
	start := make(chan struct{}) // the scrapers start together, not as each goroutine is made
	for i := range scrapers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			snaps[i] = tg.Snapshot(ctx)
		}()
	}
	close(start)
	wg.Wait()
	if got := srv.sim.Stats().Total; got != one {
		t.Errorf("%d concurrent scrapes made %d API requests, one scrape makes %d", scrapers, got, one)
	}
	for i, s := range snaps {
		if s != snaps[0] || !s.Up {
			t.Errorf("scraper %d got its own or a failed snapshot (up=%v, err=%v)", i, s.Up, s.Err)
		}
	}
}

func TestSteadyStateMakesNoTLSHandshakes(t *testing.T) {
	clk := newClock()
	srv := startServer(t, simulator.Options{Now: clk.Now})
	ids := addSessions(t, srv.sim, clk.Now(), 40, func(int) bool { return true })
	reg := prometheus.NewRegistry()
	metrics := vb365.NewMetrics(reg)
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, MaxConcurrentRequests: 8},
		server.Options{Now: clk.Now, Metrics: metrics})
	server.ForceReadStrategy(tg, server.ReadPerID)
	// Connections are kept, at most one per request in flight: however many scrapes, the
	// handshakes never exceed max_concurrent_requests. (The first scrape may open fewer than
	// 8 and a later, differently timed one a few more; a transport that did not reuse
	// connections would make 40 per scrape.)
	for range 6 {
		snapshot(t, tg)
	}
	var got float64
	total := tg.TLSHandshakesWith(func() { got = serverSeries(t, reg, "test")["vb365_exporter_tls_handshakes_total"] })
	if total == 0 || total > 8 {
		t.Errorf("6 scrapes of 40 sessions made %d TLS handshakes, want 1 to max_concurrent_requests (8)", total)
	}
	if got != float64(total) {
		t.Errorf("vb365_exporter_tls_handshakes_total = %v, want %d", got, total)
	}
}

// emitText renders a snapshot as the exporter would, minus the scrape's own duration.
func emitText(t *testing.T, s *server.Snapshot, now time.Time) string {
	t.Helper()
	var b bytes.Buffer
	for _, f := range collector.Build([]*server.Snapshot{s}, now, nil) {
		if f.GetName() == "vb365_scrape_duration_seconds" {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestListAndPerIDReadsGiveIdenticalMetrics(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		for _, style := range []string{simulator.EndTimeNull, simulator.EndTimeAbsent, simulator.EndTimeZero} {
			t.Run(version+"/"+style, func(t *testing.T) {
				clk := newClock()
				srv := startServer(t, simulator.Options{Now: clk.Now, EndTimeStyle: style})
				ids := addSessions(t, srv.sim, clk.Now(), 60, func(i int) bool { return i%4 == 0 })
				// Configured but unknown to the server: must be a per-session failure either way.
				missing := sessionID(999)
				configured := append([]vb365.ID{ids[5], vb365.ID(missing)}, ids[6:]...)
				configured = append(configured, ids[:5]...)

				texts := map[server.ReadStrategy]string{}
				for _, mode := range []server.ReadStrategy{server.ReadPerID, server.ReadList} {
					srv.sim.ResetStats()
					tg := newTarget(t, srv, config.ServerConfig{APIVersion: version, Sessions: configured, CacheTTL: ttl(time.Hour)},
						server.Options{Now: clk.Now})
					server.ForceReadStrategy(tg, mode)
					s := snapshot(t, tg)
					texts[mode] = emitText(t, s, clk.Now())
					st := srv.sim.Stats()
					switch mode {
					case server.ReadPerID:
						if st.ByEndpoint["list"] != 0 || st.ByEndpoint["session"] != int64(len(configured)) {
							t.Errorf("per-ID read: %d list and %d session requests, want 0 and %d", st.ByEndpoint["list"], st.ByEndpoint["session"], len(configured))
						}
					case server.ReadList:
						if st.ByEndpoint["list"] == 0 || st.ByEndpoint["session"] != 1 || st.BySession[missing] != 1 {
							t.Errorf("list read: %d list and %d session requests (%d for the missing one), want >0, 1 and 1",
								st.ByEndpoint["list"], st.ByEndpoint["session"], st.BySession[missing])
						}
					}
				}
				if texts[server.ReadPerID] != texts[server.ReadList] {
					t.Errorf("metrics differ.\nper-ID:\n%s\nlist:\n%s", texts[server.ReadPerID], texts[server.ReadList])
				}
				if !strings.Contains(texts[server.ReadList], fmt.Sprintf(`vb365_data_retrieval_session_scrape_success{server="test",session_id=%q} 0`, missing)) ||
					strings.Count(texts[server.ReadList], "vb365_data_retrieval_session_info{") != 60 {
					t.Errorf("want 60 sessions read and the missing one failed:\n%s", texts[server.ReadList])
				}
			})
		}
	}
}

func TestReadStrategyFollowsCost(t *testing.T) {
	for _, version := range []string{"v6", "v8"} {
		t.Run(version, func(t *testing.T) {
			clk := newClock()
			srv := startServer(t, simulator.Options{Now: clk.Now})
			ids := addSessions(t, srv.sim, clk.Now(), 2000, func(i int) bool { return i%100 == 0 })
			tg := newTarget(t, srv, config.ServerConfig{APIVersion: version, Sessions: ids, CacheTTL: ttl(time.Hour)}, server.Options{Now: clk.Now})

			// Cold: every configured session is needed, and the list holds them in one or two pages.
			s := snapshot(t, tg)
			st := srv.sim.Stats()
			if st.ByEndpoint["session"] != 0 || st.ByEndpoint["list"] > 2 {
				t.Errorf("cold scrape of 2000: %d session and %d list requests, want 0 and at most 2", st.ByEndpoint["session"], st.ByEndpoint["list"])
			}
			for _, r := range s.Sessions {
				if r.Session == nil {
					t.Fatalf("session %s not read: %v", r.ID, r.Err)
				}
			}

			// Warm: only the 20 running sessions are needed; 20 GETs beat a 2000-session list.
			srv.sim.ResetStats()
			snapshot(t, tg)
			st = srv.sim.Stats()
			if st.ByEndpoint["session"] != 20 || st.ByEndpoint["list"] != 0 {
				t.Errorf("warm scrape: %d session and %d list requests, want 20 and 0", st.ByEndpoint["session"], st.ByEndpoint["list"])
			}
		})
	}
}

// A list far longer than the wanted sessions is abandoned early, and later scrapes go
// straight to per-ID reads; v8 does not say how long its list is, so it has to find out.
func TestLongListFallsBackToPerID(t *testing.T) {
	for _, version := range []string{"v6", "v8"} {
		t.Run(version, func(t *testing.T) {
			clk := newClock()
			srv := startServer(t, simulator.Options{Now: clk.Now})
			ids := addSessions(t, srv.sim, clk.Now(), 3000, nil)
			wanted := ids[:30] // the oldest: the end of the newest-first list
			tg := newTarget(t, srv, config.ServerConfig{APIVersion: version, Sessions: wanted, CacheTTL: ttl(0)}, server.Options{Now: clk.Now})
			for scrape := 1; scrape <= 3; scrape++ {
				srv.sim.ResetStats()
				s := snapshot(t, tg)
				for _, r := range s.Sessions {
					if r.Session == nil {
						t.Fatalf("scrape %d: session %s not read: %v", scrape, r.ID, r.Err)
					}
				}
				st := srv.sim.Stats()
				reqs := st.ByEndpoint["list"] + st.ByEndpoint["session"]
				if reqs > 2*int64(len(wanted)) {
					t.Errorf("scrape %d: %d requests, want at most twice the %d GETs", scrape, reqs, len(wanted))
				}
				if scrape > 1 && st.ByEndpoint["list"] != 0 {
					t.Errorf("scrape %d: %d list requests, want per-ID reads once the list is known to be long", scrape, st.ByEndpoint["list"])
				}
			}
		})
	}
}
