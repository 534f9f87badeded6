package server_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

func result(t *testing.T, s *server.Snapshot, id vb365.ID) server.SessionResult {
	t.Helper()
	for _, r := range s.Sessions {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("session %s not in the snapshot", id)
	return server.SessionResult{}
}

// The demo's Failed and Warning sessions carry their reasons; the others carry no log; and
// over many scrapes each log is read once, also with cache_ttl 0 (the session is read again
// every scrape, its log is not).
func TestLogsGiveTheReasonAndAreReadOnce(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			srv := startServer(t, simulator.Options{})
			srv.sim.LoadDemoData()
			ids := []vb365.ID{simulator.DemoFailedID, simulator.DemoWarningID, simulator.ReferenceSessionID, simulator.DemoStoppedID}
			tg := newTarget(t, srv, config.ServerConfig{APIVersion: version, Sessions: ids}, server.Options{})
			for range 5 {
				s := snapshot(t, tg)
				failed := result(t, s, simulator.DemoFailedID)
				if failed.Log == nil || failed.Log.Reason == nil || failed.Log.Reason.Type != vb365.LogError ||
					failed.Log.Reason.Message != vb365.ReasonMessage(simulator.DemoFailedReason) || failed.Log.Errors == 0 {
					t.Fatalf("Failed session's log: %+v", failed.Log)
				}
				warning := result(t, s, simulator.DemoWarningID)
				if warning.Log == nil || warning.Log.Reason == nil || warning.Log.Reason.Type != vb365.LogWarning ||
					warning.Log.Reason.Message != vb365.ReasonMessage(simulator.DemoWarningReason) || warning.Log.Warnings == 0 {
					t.Fatalf("Warning session's log: %+v", warning.Log)
				}
				for _, id := range []string{simulator.ReferenceSessionID, simulator.DemoStoppedID} {
					if l := result(t, s, vb365.ID(id)).Log; l != nil {
						t.Errorf("session %s (not Failed or Warning) has a log: %+v", id, l)
					}
				}
			}
			if n := srv.sim.Stats().ByEndpoint["logitems"]; n != 2 {
				t.Errorf("%d LogItems requests over 5 scrapes of 2 Failed/Warning sessions, want 2", n)
			}
		})
	}
}

// A log that fails, stalls or is garbage costs that session its reason, for now, and
// nothing else: every session is still read, the server is up, the reason says that the
// log could not be read, and once the pause after the failure has passed the log is read.
func TestBrokenLogLeavesEverythingElse(t *testing.T) {
	for _, kind := range []string{simulator.FaultStatus, simulator.FaultMalformed, simulator.FaultStall, simulator.FaultHuge} {
		t.Run(kind, func(t *testing.T) {
			srv := startServer(t, simulator.Options{})
			srv.sim.LoadDemoData()
			ids := []vb365.ID{simulator.DemoFailedID, simulator.DemoWarningID, simulator.ReferenceSessionID}
			clk := &clock{now: time.Now()}
			tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, Timeout: config.Duration(500 * time.Millisecond)}, server.Options{Now: clk.Now})
			if err := srv.sim.SetFault(simulator.Fault{Endpoint: "logitems", SessionID: simulator.DemoFailedID, Kind: kind, Bytes: 1 << 20}); err != nil {
				t.Fatal(err)
			}
			s := snapshot(t, tg)
			for _, id := range ids {
				if r := result(t, s, id); r.Session == nil {
					t.Errorf("session %s not read: %v", id, r.Err)
				}
			}
			if l := result(t, s, simulator.DemoFailedID).Log; l == nil || l.Err == nil || l.Reason == nil || !strings.HasPrefix(l.Reason.Message, "log could not be read: ") {
				t.Errorf("Failed session's log does not say that it could not be read: %+v", l)
			}
			if c := collectorResult(t, s, "logs"); c.Err == nil {
				t.Errorf("collector logs succeeded although a log could not be read")
			}
			if l := result(t, s, simulator.DemoWarningID).Log; l == nil || l.Reason == nil || l.Err != nil {
				t.Errorf("Warning session lost its reason to another session's broken log: %+v", l)
			}
			srv.sim.ClearFaults()
			clk.Add(time.Hour)
			s = snapshot(t, tg)
			if l := result(t, s, simulator.DemoFailedID).Log; l == nil || l.Reason == nil || l.Err != nil {
				t.Errorf("the log is not read again once it can be: %+v", l)
			}
			if c := collectorResult(t, s, "logs"); c.Err != nil {
				t.Errorf("collector logs failed after the log was read: %v", c.Err)
			}
		})
	}
}

func collectorResult(t *testing.T, s *server.Snapshot, name string) server.CollectorResult {
	t.Helper()
	for _, c := range s.Collectors {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no collector %s in the snapshot: %+v", name, s.Collectors)
	return server.CollectorResult{}
}

// Whatever a log message holds, the reason is valid UTF-8 of at most 200 bytes, and holds
// no secret, also when collapsing white space would join one's parts.
func TestReasonIsCutAndScrubbed(t *testing.T) {
	srv := startServer(t, simulator.Options{})
	now := time.Now()
	id := sessionID(1)
	if err := srv.sim.AddSession(simulator.Session{ID: id, Name: "s", RetrievalID: retrievalID(1), CreationTime: now.Add(-time.Hour),
		EndTime: now.Add(-time.Minute), Type: simulator.TypeRetrieve, Status: simulator.StatusFailed}); err != nil {
		t.Fatal(err)
	}
	msg := "login as " + password + " failed:\n\t" + strings.Repeat("é\xff ", 200)
	if err := srv.sim.SetLogItems(id, []simulator.LogItem{{Type: simulator.LogError, Message: msg, CreationTime: now.Add(-2 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t, srv, config.ServerConfig{APIVersion: "v8", Sessions: []vb365.ID{vb365.ID(id)}}, server.Options{})
	l := result(t, snapshot(t, tg), vb365.ID(id)).Log
	if l == nil || l.Reason == nil {
		t.Fatalf("no reason: %+v", l)
	}
	got := l.Reason.Message
	if len(got) > vb365.MaxReasonBytes || !utf8.ValidString(got) || strings.Contains(got, password) || strings.ContainsAny(got, "\n\t") {
		t.Errorf("reason %q (%d bytes): want valid UTF-8, at most %d bytes, one line, no password", got, len(got), vb365.MaxReasonBytes)
	}
	if !strings.HasPrefix(got, "login as <secret> failed: é") {
		t.Errorf("reason %q does not keep the message's start", got)
	}
}

// A first scrape of many finished Failed sessions reads at most a bounded number of logs;
// later scrapes read the rest, and once all are read a warm scrape makes no LogItems request.
func TestManyLogsAreReadOverSeveralScrapes(t *testing.T) {
	srv := startServer(t, simulator.Options{})
	now := time.Now()
	var ids []vb365.ID
	for i := range 120 {
		id := sessionID(i)
		if err := srv.sim.AddSession(simulator.Session{ID: id, Name: fmt.Sprint(i), RetrievalID: retrievalID(1), CreationTime: now.Add(-time.Hour),
			EndTime: now.Add(-time.Minute), Type: simulator.TypeRetrieve, Status: simulator.StatusFailed}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, vb365.ID(id))
	}
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, CacheTTL: ttl(time.Hour)}, server.Options{})
	var counts []int64
	for range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		tg.Snapshot(ctx)
		cancel()
		counts = append(counts, srv.sim.Stats().ByEndpoint["logitems"])
	}
	if counts[0] == 0 || counts[0] >= 120 || counts[len(counts)-1] != 120 || counts[len(counts)-1] != counts[len(counts)-2] {
		t.Errorf("LogItems requests after each scrape: %v; want a bounded first scrape, then all 120 read once, then none", counts)
	}
}

// addFailed adds n finished Failed sessions, ended before now.
func addFailed(t *testing.T, sim *simulator.Simulator, now time.Time, n int) []vb365.ID {
	t.Helper()
	ids := make([]vb365.ID, n)
	for i := range n {
		id := sessionID(100 + i)
		if err := sim.AddSession(simulator.Session{ID: id, Name: fmt.Sprint("failed ", i), RetrievalID: retrievalID(1), CreationTime: now.Add(-time.Hour),
			EndTime: now.Add(-time.Minute), Type: simulator.TypeRetrieve, Status: simulator.StatusFailed}); err != nil {
			t.Fatal(err)
		}
		ids[i] = vb365.ID(id)
	}
	return ids
}

// Issue 19 point 1: one LogItems page of 150,000 tiny items for each of 8 Failed sessions
// is decoded as it arrives and only the page asked for (1,000 items) is decoded; the rest
// is counted, never held. The bound is on the bytes allocated while reading all eight
// logs at once (the old reader decoded every item: hundreds of MB), and the log says it
// was cut.
func TestLogFloodIsDecodedStreamingAndCut(t *testing.T) {
	srv := startServer(t, simulator.Options{})
	ids := addFailed(t, srv.sim, time.Now(), 8)
	if err := srv.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointLogItems, Kind: simulator.FaultLogFlood}); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	// Generous deadlines: under the race detector eight pages of 150,000 items take a while.
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, MaxConcurrentRequests: 8, Timeout: config.Duration(2 * time.Minute)}, server.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runtime.ReadMemStats(&before)
	s := tg.Snapshot(ctx)
	runtime.ReadMemStats(&after)
	t.Logf("allocated %d KiB", (after.TotalAlloc-before.TotalAlloc)>>10)
	for _, id := range ids {
		l := result(t, s, id).Log
		if l == nil || l.Err != nil || !l.Cut || l.Errors != 1000 || l.Reason == nil || !strings.HasSuffix(l.Reason.Message, "(log cut)") {
			t.Fatalf("session %s: log %+v, want the first 1,000 items counted and the log cut", id, l)
		}
	}
	// Eight pages of 150,000 items, decoded whole, allocate several hundred MB; streamed,
	// the bodies cost their read buffers and 8,000 decoded items.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("reading 8 flooded logs allocated %d MiB, want at most 64", alloc>>20)
	}
}

// Issue 19 point 2: a log whose second page always fails is not read again from page 1 on
// every scrape, and is retried only after a pause that grows: over 6 scrapes a minute
// apart, 8 such logs cost a bounded number of requests (the old reader made 96).
func TestFailingLogPageCostsBoundedRequests(t *testing.T) {
	clk := newClock()
	srv := startServer(t, simulator.Options{Now: clk.Now})
	ids := addFailed(t, srv.sim, clk.Now(), 8)
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, MaxConcurrentRequests: 8}, server.Options{Now: clk.Now})
	if err := srv.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointLogItems, Kind: simulator.FaultLogEndless, Bytes: 10, Status: 500}); err != nil {
		t.Fatal(err)
	}
	for range 6 {
		s := snapshot(t, tg)
		if l := result(t, s, ids[0]).Log; l == nil || l.Err == nil {
			t.Fatalf("log with a failing page 2: %+v", l)
		}
		clk.Add(time.Minute)
	}
	// Page 1 once and page 2 at 0, 1, 2 and 4 minutes (pauses of 30 s, 1, 2, 4 min).
	if n := srv.sim.Stats().ByEndpoint[simulator.EndpointLogItems]; n > 8*5 {
		t.Errorf("%d LogItems requests in 6 scrapes of 8 logs whose page 2 fails, want at most %d", n, 8*5)
	}
}

// Issue 19 point 2: a log longer than one scrape can read is finished by the next scrapes,
// each going on where the last stopped (the old reader began again each time and never
// finished it); every page is asked for about once.
func TestLogReadResumesAfterDeadline(t *testing.T) {
	clk := &clock{now: time.Now()}
	srv := startServer(t, simulator.Options{})
	ids := addFailed(t, srv.sim, clk.Now(), 1)
	items := make([]simulator.LogItem, 8000)
	for i := range items {
		items[i] = simulator.LogItem{Type: simulator.LogSuccess, Message: fmt.Sprint("item ", i), CreationTime: clk.Now().Add(-time.Hour + time.Duration(i)*time.Millisecond)}
	}
	items[10].Type, items[10].Message = simulator.LogError, "the reason"
	if err := srv.sim.SetLogItems(string(ids[0]), items); err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids}, server.Options{Now: clk.Now})
	if err := srv.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointLogItems, Kind: simulator.FaultLatency, Latency: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	scrapes := 1
	var l *server.SessionLog
	for ; scrapes <= 12; scrapes++ {
		clk.Add(time.Minute) // past any pause after a read that got nowhere
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		l = result(t, tg.Snapshot(ctx), ids[0]).Log
		cancel()
		if l != nil && l.Err == nil {
			break
		}
	}
	t.Logf("read in %d scrapes", scrapes)
	if l == nil || l.Err != nil || l.Reason == nil || l.Reason.Message != "the reason" {
		t.Fatalf("after %d scrapes the 8-page log is not read: %+v", scrapes, l)
	}
	// 8 pages, plus at most one request cut off by each scrape's deadline.
	if n := srv.sim.Stats().ByEndpoint[simulator.EndpointLogItems]; n > int64(8+scrapes) {
		t.Errorf("%d LogItems requests for an 8-page log read over %d scrapes", n, scrapes)
	}
}

// Issue 19 point 5: when the sessions come from the cache and every LogItems read answers
// 500, the server is still up: log reads never judge it. The failure shows in the logs
// collector and in the reason.
func TestUpStaysWhenLogItemsFail(t *testing.T) {
	clk := newClock()
	srv := startServer(t, simulator.Options{Now: clk.Now})
	ids := addFailed(t, srv.sim, clk.Now(), 8)
	tg := newTarget(t, srv, config.ServerConfig{Sessions: ids, CacheTTL: ttl(time.Hour)}, server.Options{Now: clk.Now})
	if err := srv.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointLogItems, Kind: simulator.FaultStatus, Status: 500}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		s := tg.Snapshot(ctx)
		cancel()
		if !s.Up {
			t.Fatalf("scrape %d: up 0 although only the log reads fail: %v", i+1, s.Err)
		}
		if c := collectorResult(t, s, "logs"); c.Err == nil {
			t.Errorf("scrape %d: the logs collector succeeded", i+1)
		}
		if l := result(t, s, ids[0]).Log; l == nil || l.Reason == nil || l.Reason.Message != "log could not be read: HTTP 500" {
			t.Errorf("scrape %d: reason %+v", i+1, l)
		}
		clk.Add(15 * time.Second) // within the minute the data retrievals are kept: they ask nothing
	}
}
