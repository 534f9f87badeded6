package server_test

import (
	"context"
	"fmt"
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
