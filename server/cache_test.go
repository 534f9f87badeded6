package server_test

import (
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

func TestFinishedSessionsCachedForTTL(t *testing.T) {
	clk := newClock()
	srv := startServer(t, simulator.Options{Now: clk.Now})
	ids := addSessions(t, srv.sim, clk.Now(), 4, func(i int) bool { return i == 3 })
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, CacheTTL: ttl(10 * time.Minute)}, server.Options{Now: clk.Now})

	for scrape := 1; scrape <= 3; scrape++ {
		s := snapshot(t, tg)
		for _, r := range s.Sessions {
			if r.Session == nil {
				t.Fatalf("scrape %d: session %s not read: %v", scrape, r.ID, r.Err)
			}
			wantCached := scrape > 1 && r.ID != ids[3]
			if r.Cached != wantCached {
				t.Errorf("scrape %d: session %s cached=%v, want %v", scrape, r.ID, r.Cached, wantCached)
			}
		}
		clk.Add(4 * time.Minute) // scrapes at 0, 4 and 8 minutes: all within the TTL
	}
	st := srv.sim.Stats()
	for _, id := range ids[:3] {
		if n := st.BySession[string(id)]; n != 1 {
			t.Errorf("finished session %s requested %d times within the TTL, want 1", id, n)
		}
	}
	if n := st.BySession[string(ids[3])]; n != 3 {
		t.Errorf("running session requested %d times in 3 scrapes, want 3", n)
	}

	clk.Add(4 * time.Minute) // 16 minutes after the first read: past the TTL
	srv.sim.ResetStats()
	s := snapshot(t, tg)
	st = srv.sim.Stats()
	for i, id := range ids {
		if n := st.BySession[string(id)]; n != 1 {
			t.Errorf("after the TTL, session %s requested %d times, want 1", id, n)
		}
		if s.Sessions[i].Cached {
			t.Errorf("after the TTL, session %s served from cache", id)
		}
	}
}

func TestRunningSessionReadEveryScrape(t *testing.T) {
	clk := newClock()
	srv := startServer(t, simulator.Options{Now: clk.Now})
	ids := addSessions(t, srv.sim, clk.Now(), 2, func(int) bool { return true })
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, CacheTTL: ttl(time.Hour)}, server.Options{Now: clk.Now})
	for range 5 {
		snapshot(t, tg)
		clk.Add(time.Second)
	}
	for _, id := range ids {
		if n := srv.sim.Stats().BySession[string(id)]; n != 5 {
			t.Errorf("running session %s requested %d times in 5 scrapes, want 5", id, n)
		}
	}

	// Once it finishes it is read one last time, then cached.
	for _, id := range ids {
		if err := srv.sim.UpdateSession(string(id), func(s *simulator.Session) {
			s.Status, s.EndTime = simulator.StatusSuccess, clk.Now()
		}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		s := snapshot(t, tg)
		for _, r := range s.Sessions {
			if r.Session == nil || r.Session.Status != simulator.StatusSuccess {
				t.Fatalf("session %s: %+v, want Success", r.ID, r.Session)
			}
		}
		clk.Add(time.Second)
	}
	for _, id := range ids {
		if n := srv.sim.Stats().BySession[string(id)]; n != 6 {
			t.Errorf("session %s requested %d times, want 5 while running and 1 once finished", id, n)
		}
	}
}

func TestCacheOffAndUnendedTerminalSessions(t *testing.T) {
	clk := newClock()
	srv := startServer(t, simulator.Options{Now: clk.Now})
	ids := addSessions(t, srv.sim, clk.Now(), 2, nil)
	// A terminal status without an end time may still change (VB365 writes the end time
	// last), so it is not final.
	if err := srv.sim.UpdateSession(string(ids[1]), func(s *simulator.Session) { s.EndTime = time.Time{} }); err != nil {
		t.Fatal(err)
	}
	off := newTarget(t, srv, config.ServerConfig{Sessions: ids[:1], CacheTTL: ttl(0)}, server.Options{Now: clk.Now})
	on := newTarget(t, srv, config.ServerConfig{Sessions: ids[1:], CacheTTL: ttl(time.Hour)}, server.Options{Now: clk.Now})
	for range 3 {
		snapshot(t, off)
		snapshot(t, on)
	}
	st := srv.sim.Stats()
	if n := st.BySession[string(ids[0])]; n != 3 {
		t.Errorf("cache_ttl 0: finished session requested %d times in 3 scrapes, want 3", n)
	}
	if n := st.BySession[string(ids[1])]; n != 3 {
		t.Errorf("terminal session without end time requested %d times in 3 scrapes, want 3", n)
	}
}
