package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sess(id, name, retrieval, status string, createdAgo time.Duration) vb365.Session {
	s := vb365.Session{ID: vb365.ID(id), Name: name, RetrievalID: vb365.ID(retrieval), Status: status, Type: "Retrieve",
		CreationTime: t0.Add(-createdAgo)}
	if status != vb365.StatusRunning {
		s.EndTime = s.CreationTime.Add(time.Minute)
	}
	return s
}

func ids(list []vb365.Session) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s.ID)
	}
	return strings.Join(out, ",")
}

func TestSelect(t *testing.T) {
	const ra, rb = "aaaaaaaa-0000-4000-8000-000000000000", "bbbbbbbb-0000-4000-8000-000000000000"
	listed := []vb365.Session{
		sess("s-old-ok", "Exchange nightly", ra, vb365.StatusSuccess, 30*time.Hour),
		sess("s-old-running", "Teams weekly", rb, vb365.StatusRunning, 50*time.Hour),
		sess("s-new-failed", "Teams weekly", rb, vb365.StatusFailed, 2*time.Hour),
		sess("s-new-ok", "Exchange nightly", ra, vb365.StatusSuccess, 1*time.Hour),
		sess("s-edge", "OneDrive", ra, vb365.StatusWarning, 24*time.Hour),
		sess("s-new-ok", "Exchange nightly (dup)", ra, vb365.StatusSuccess, 1*time.Hour),
	}
	cases := []struct {
		name        string
		d           Discovery
		want        string
		wantDropped int
	}{
		{name: "max_age keeps recent and running, newest first",
			d:    Discovery{MaxAge: 24 * time.Hour},
			want: "s-new-ok,s-new-failed,s-edge,s-old-running"},
		{name: "zero max_age keeps every age",
			d:    Discovery{},
			want: "s-new-ok,s-new-failed,s-edge,s-old-ok,s-old-running"},
		{name: "short max_age still keeps running",
			d:    Discovery{MaxAge: 30 * time.Minute},
			want: "s-old-running"},
		{name: "retrieval filter",
			d:    Discovery{MaxAge: 24 * time.Hour, RetrievalIDs: []vb365.ID{rb}},
			want: "s-new-failed,s-old-running"},
		{name: "name regexps: any of them",
			d:    Discovery{MaxAge: 100 * time.Hour, NameRegexps: []*regexp.Regexp{regexp.MustCompile("^(?:Exchange.*)$"), regexp.MustCompile("^(?:OneDrive)$")}},
			want: "s-new-ok,s-edge,s-old-ok"},
		{name: "name regexp matching nothing",
			d:    Discovery{MaxAge: 100 * time.Hour, NameRegexps: []*regexp.Regexp{regexp.MustCompile("^(?:SharePoint)$")}},
			want: ""},
		{name: "max_sessions keeps the newest and counts the rest",
			d:    Discovery{MaxAge: 100 * time.Hour, MaxSessions: 2},
			want: "s-new-ok,s-new-failed", wantDropped: 3},
		{name: "max_sessions exactly reached drops nothing",
			d:    Discovery{MaxAge: 24 * time.Hour, MaxSessions: 4},
			want: "s-new-ok,s-new-failed,s-edge,s-old-running"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, dropped := c.d.Select(listed, t0)
			if ids(got) != c.want || dropped != c.wantDropped {
				t.Errorf("Select = %s (dropped %d), want %s (dropped %d)", ids(got), dropped, c.want, c.wantDropped)
			}
		})
	}
	// The first occurrence of an ID wins; the duplicate's name is not used.
	got, _ := (&Discovery{}).Select(listed, t0)
	if got[0].Name != "Exchange nightly" {
		t.Errorf("duplicate handling kept %q", got[0].Name)
	}
}

// clock is a settable clock shared by the simulator and the target.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	sim   *simulator.Simulator
	clock *clock
	tgt   *Server
}

func newFixture(t *testing.T, cfg config.ServerConfig) *fixture {
	t.Helper()
	return newFixtureBehind(t, cfg, nil)
}

// newFixtureBehind is newFixture with the simulator's answers passed through wrap (nil:
// as they are), for what the simulator does not send.
func newFixtureBehind(t *testing.T, cfg config.ServerConfig, wrap func(http.Handler) http.Handler) *fixture {
	t.Helper()
	clk := &clock{now: t0}
	sim := simulator.New(simulator.Options{Username: "u", Password: "p", Now: clk.Now})
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg.Name, cfg.URL, cfg.Username = "prod", srv.URL, "u"
	cfg.Password = "p"
	if cfg.APIVersion == "" {
		cfg.APIVersion = "v8"
	}
	if cfg.Collect == nil {
		cfg.Collect = []string{config.CollectDataRetrievals} // the kinds have tests of their own
	}
	cfg.MaxConcurrentRequests = 4
	if cfg.CacheTTL == nil {
		cfg.CacheTTL = ttl(0) // the tests' default: no cache, unless they ask for one
	}
	tgt, err := New(&cfg, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{sim: sim, clock: clk, tgt: tgt}
}

func (f *fixture) add(t *testing.T, id, name, retrieval, status string, createdAgo time.Duration) {
	t.Helper()
	s := simulator.Session{ID: id, Name: name, RetrievalID: retrieval, CreationTime: f.clock.Now().Add(-createdAgo),
		Type: simulator.TypeRetrieve, Status: status}
	if status != simulator.StatusRunning {
		s.EndTime = s.CreationTime.Add(time.Minute)
	}
	if err := f.sim.AddSession(s); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) snapshot(t *testing.T) *Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return f.tgt.Snapshot(ctx)
}

// results renders a snapshot's sessions as id=status (or id=ERR) for exact comparison.
func results(s *Snapshot) string {
	var out []string
	for _, r := range s.Sessions {
		if r.Session == nil {
			out = append(out, string(r.ID)+"=ERR")
			continue
		}
		out = append(out, string(r.ID)+"="+r.Session.Status)
	}
	return strings.Join(out, ",")
}

func uuid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func TestDiscoveryFollowsNewSessionsAndAgesOut(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newFixture(t, config.ServerConfig{APIVersion: version, Sessions: []vb365.ID{vb365.ID(uuid(1))}, CacheTTL: ttl(time.Hour),
				Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(24 * time.Hour), MaxSessions: 100}})
			f.add(t, uuid(1), "configured, also listed", simulator.ReferenceRetrievalID, simulator.StatusSuccess, 48*time.Hour)
			f.add(t, uuid(2), "recent", simulator.ReferenceRetrievalID, simulator.StatusSuccess, time.Hour)
			f.add(t, uuid(3), "old", simulator.ReferenceRetrievalID, simulator.StatusFailed, 25*time.Hour)

			s := f.snapshot(t)
			if !s.Up || s.Discovery == nil || s.Discovery.Err != nil {
				t.Fatalf("up %v, discovery %+v, err %v", s.Up, s.Discovery, s.Err)
			}
			if got, want := results(s), uuid(1)+"=Success,"+uuid(2)+"=Success"; got != want {
				t.Errorf("first scrape: %s, want %s", got, want)
			}

			// A session created after start-up appears on the next scrape, no config change.
			f.clock.Add(10 * time.Minute)
			f.add(t, uuid(4), "new run", simulator.ReferenceRetrievalID, simulator.StatusRunning, 0)
			gets := f.sim.Stats().ByEndpoint["session"]
			s = f.snapshot(t)
			if got, want := results(s), uuid(1)+"=Success,"+uuid(4)+"=Running,"+uuid(2)+"=Success"; got != want {
				t.Errorf("after a new session: %s, want %s", got, want)
			}
			if s.Discovery.Sessions != 2 {
				t.Errorf("discovered %d, want 2 (the configured one is too old to be discovered)", s.Discovery.Sessions)
			}
			// Discovered sessions come from the list: no per-ID GET for them.
			if n := f.sim.Stats().ByEndpoint["session"] - gets; n != 0 {
				t.Errorf("%d session GETs for discovered or cached sessions, want 0", n)
			}

			// A day later the finished one has aged out; the one still running stays.
			f.clock.Add(24 * time.Hour)
			s = f.snapshot(t)
			if got, want := results(s), uuid(1)+"=Success,"+uuid(4)+"=Running"; got != want {
				t.Errorf("a day later: %s, want %s", got, want)
			}
		})
	}
}

func TestDiscoveryFiltersAgainstSimulator(t *testing.T) {
	const other = "bbbbbbbb-0000-4000-8000-000000000000"
	f := newFixture(t, config.ServerConfig{Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(time.Hour), MaxSessions: 100,
		RetrievalIDs: []vb365.ID{simulator.ReferenceRetrievalID},
		NameRegexps:  []string{"Exchange.*"}}})
	f.add(t, uuid(1), "Exchange nightly", simulator.ReferenceRetrievalID, simulator.StatusFailed, time.Minute)
	f.add(t, uuid(2), "Teams nightly", simulator.ReferenceRetrievalID, simulator.StatusFailed, time.Minute)
	f.add(t, uuid(3), "Exchange nightly", other, simulator.StatusFailed, time.Minute)
	s := f.snapshot(t)
	if got, want := results(s), uuid(1)+"=Failed"; got != want {
		t.Errorf("filtered: %s, want %s", got, want)
	}
}

func TestDiscoveryMaxSessionsGuard(t *testing.T) {
	f := newFixture(t, config.ServerConfig{Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(24 * time.Hour), MaxSessions: 3}})
	for i := range 5 {
		f.add(t, uuid(i), fmt.Sprint("run ", i), simulator.ReferenceRetrievalID, simulator.StatusSuccess, time.Duration(i)*time.Minute)
	}
	s := f.snapshot(t)
	if s.Discovery.Sessions != 3 || s.Discovery.Dropped != 2 {
		t.Errorf("discovered %d, dropped %d; want 3 and 2", s.Discovery.Sessions, s.Discovery.Dropped)
	}
	if got, want := results(s), uuid(0)+"=Success,"+uuid(1)+"=Success,"+uuid(2)+"=Success"; got != want {
		t.Errorf("kept %s, want the newest three %s", got, want)
	}
}

func TestDiscoveryFailureReportsLastSessionsAsNotRead(t *testing.T) {
	f := newFixture(t, config.ServerConfig{Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(24 * time.Hour), MaxSessions: 10}})
	f.add(t, uuid(1), "failed run", simulator.ReferenceRetrievalID, simulator.StatusFailed, time.Minute)
	if got := results(f.snapshot(t)); got != uuid(1)+"=Failed" {
		t.Fatalf("first scrape: %s", got)
	}
	if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultStatus, Status: 500}); err != nil {
		t.Fatal(err)
	}
	s := f.snapshot(t)
	// The series turn into scrape_success 0 rather than vanish, which would resolve alerts.
	if got := results(s); got != uuid(1)+"=ERR" {
		t.Errorf("while the list fails: %s, want %s=ERR", got, uuid(1))
	}
	var apiErr *vb365.APIError
	if !errors.As(s.Discovery.Err, &apiErr) || apiErr.StatusCode != http.StatusInternalServerError {
		t.Errorf("discovery err = %v", s.Discovery.Err)
	}
	// The retrievals still answered, so the server is up.
	if !s.Up {
		t.Error("up = false although the retrievals endpoint answered")
	}
	f.sim.ClearFaults()
	if got := results(f.snapshot(t)); got != uuid(1)+"=Failed" {
		t.Errorf("after recovery: %s", got)
	}
}

func TestDiscoveryOffHasNoDiscoveryResult(t *testing.T) {
	f := newFixture(t, config.ServerConfig{})
	f.add(t, uuid(1), "unconfigured", simulator.ReferenceRetrievalID, simulator.StatusFailed, time.Minute)
	s := f.snapshot(t)
	if s.Discovery != nil || len(s.Sessions) != 0 {
		t.Errorf("discovery off: result %+v, sessions %s", s.Discovery, results(s))
	}
	if n := f.sim.Stats().ByEndpoint["list"]; n != 0 {
		t.Errorf("%d list reads with discovery off, want 0", n)
	}
	if !s.Up {
		t.Error("up = false")
	}
}

// With discovery reading the whole list, configured sessions come from that same list: one
// list read a scrape, and a GET only for a configured session the list does not hold.
func TestDiscoveryListServesConfiguredSessions(t *testing.T) {
	const missing = "deadbeef-0000-4000-8000-000000000000"
	var ids []vb365.ID
	for i := range 40 {
		ids = append(ids, vb365.ID(uuid(i)))
	}
	f := newFixture(t, config.ServerConfig{Sessions: append(slices.Clone(ids), missing), Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(time.Hour)}})
	for i, id := range ids {
		status := simulator.StatusSuccess
		if i%4 == 0 {
			status = simulator.StatusRunning
		}
		f.add(t, string(id), fmt.Sprint("configured ", i), simulator.ReferenceRetrievalID, status, 48*time.Hour) // older than max_age
	}
	f.add(t, "11111111-0000-4000-8000-000000000000", "fresh", simulator.ReferenceRetrievalID, simulator.StatusFailed, time.Minute)
	f.sim.ResetStats()
	s := f.snapshot(t)
	st := f.sim.Stats()
	if n := st.ByEndpoint["list"]; n != 1 {
		t.Errorf("%d list reads, want 1 (discovery's, shared with the configured sessions)", n)
	}
	if n := st.ByEndpoint["session"]; n != 1 || st.BySession[missing] != 1 {
		t.Errorf("session GETs %d (%v), want one, for the session the list lacks", n, st.BySession)
	}
	got := map[vb365.ID]string{}
	for _, r := range s.Sessions {
		if r.Session != nil {
			got[r.ID] = r.Session.Status
		} else {
			got[r.ID] = "not read"
		}
	}
	if len(got) != 42 || got[missing] != "not read" || got[ids[0]] != simulator.StatusRunning || got[ids[1]] != simulator.StatusSuccess ||
		got["11111111-0000-4000-8000-000000000000"] != simulator.StatusFailed {
		t.Errorf("sessions %v", got)
	}
}

// The selection holds at most max_sessions candidates however long the list, and still
// picks the newest of all.
func TestSelectorHoldsAtMostMaxSessions(t *testing.T) {
	const n, limit = 20000, 100
	d := &Discovery{MaxSessions: limit}
	sel := d.selector(t0)
	var all []vb365.Session
	for i := range n {
		// Creation times out of order, with ties, as a list in no documented order may be.
		s := sess(fmt.Sprintf("s-%05d", i), "x", "", vb365.StatusSuccess, time.Duration((i*7919)%5000)*time.Second)
		all = append(all, s)
		sel.add(s)
		if len(sel.heap) > limit || len(sel.kept) > limit {
			t.Fatalf("after %d sessions the selection holds %d (%d ids), want at most %d", i+1, len(sel.heap), len(sel.kept), limit)
		}
	}
	keep, dropped := sel.result()
	sort.Slice(all, func(i, j int) bool { return newer(&all[i], &all[j]) })
	if ids(keep) != ids(all[:limit]) || dropped != n-limit {
		t.Errorf("kept %d (dropped %d), not the newest %d of %d", len(keep), dropped, limit, n)
	}
}

// Pages with 6 KiB names: discovery follows every page (they are shorter than asked, but
// the server says more follow), keeps max_sessions of them and cuts the names.
func TestDiscoveryLongNamesKeptBounded(t *testing.T) {
	for _, version := range []string{"v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newFixture(t, config.ServerConfig{APIVersion: version, Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(24 * time.Hour), MaxSessions: 100}})
			if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultEndless, Entries: 1000, Bytes: 6 << 10, Count: 3}); err != nil {
				t.Fatal(err)
			}
			// 18 MiB of names to decode: under -race, beside every other package's tests on
			// two cores, that took 9.9 s once, past snapshot's 10 s. What is asserted here is
			// the bound, not the speed, so the deadline is generous.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s := f.tgt.Snapshot(ctx)
			if s.Discovery == nil || s.Discovery.Err != nil || s.Discovery.Sessions != 100 || s.Discovery.Dropped != 2900 {
				t.Fatalf("discovery %+v, want 100 kept and 2900 dropped", s.Discovery)
			}
			if n := f.sim.Stats().ByEndpoint["list"]; n != 4 {
				t.Errorf("%d list reads, want 4 (three pages and the empty end)", n)
			}
			for _, r := range s.Sessions {
				if r.Session == nil || len(r.Session.Name) > vb365.MaxNameBytes {
					t.Fatalf("session %s kept with a %d-byte name", r.ID, len(r.Session.Name))
				}
			}
		})
	}
}

// Pages that never end: the read stops at the scrape deadline, the scrape returns with
// discovery failed (not hung, not holding the list).
func TestDiscoveryEndlessPagesStopAtDeadline(t *testing.T) {
	f := newFixture(t, config.ServerConfig{Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(24 * time.Hour), MaxSessions: 100}})
	// Small pages, so that even a loaded machine reads several before the deadline.
	if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultEndless, Entries: 200, Bytes: 6 << 10}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s := f.tgt.collect(ctx)
	if s.Discovery == nil || s.Discovery.Err == nil || vb365.Reason(s.Discovery.Err) != "timeout" {
		t.Fatalf("discovery %+v, want it stopped by the deadline", s.Discovery)
	}
	if n := f.sim.Stats().ByEndpoint["list"]; n < 2 {
		t.Errorf("%d list reads: paging stopped at the first page shorter than asked", n)
	}
}

// A server that serves pages smaller than asked, without saying so in the page's limit:
// discovery still finds every session, by totalCount (v6, v7) or _links.next (v8).
func TestDiscoveryFollowsCappedPages(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newFixture(t, config.ServerConfig{APIVersion: version, Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(24 * time.Hour)}})
			for i := range 25 {
				f.add(t, uuid(i), fmt.Sprint("run ", i), simulator.ReferenceRetrievalID, simulator.StatusSuccess, time.Duration(i)*time.Minute)
			}
			if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultPageCap, Entries: 7}); err != nil {
				t.Fatal(err)
			}
			s := f.snapshot(t)
			if s.Discovery == nil || s.Discovery.Err != nil || s.Discovery.Sessions != 25 || len(s.Sessions) != 25 {
				t.Errorf("discovery %+v with %d sessions, want all 25", s.Discovery, len(s.Sessions))
			}
		})
	}
}

// "Previously discovered sessions" are spoken of only when there were some (issue 20
// point 4): not when discovery fails on the first scrape.
func TestDiscoveryFailureMentionsPreviousOnlyWhenThere(t *testing.T) {
	for _, first := range []bool{true, false} {
		clk := &clock{now: t0}
		sim := simulator.New(simulator.Options{Username: "u", Password: "p", Now: clk.Now})
		srv := httptest.NewServer(sim)
		t.Cleanup(srv.Close)
		logs := &syncBuf{}
		tgt, err := New(&config.ServerConfig{Name: "prod", URL: srv.URL, Username: "u", Password: "p", APIVersion: "v8",
			MaxConcurrentRequests: 4, CacheTTL: ttl(0), Collect: []string{config.CollectDataRetrievals},
			Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(24 * time.Hour), MaxSessions: 10}},
			Options{Now: clk.Now, Logger: log.NewLogfmtLogger(logs)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tgt.Close)
		f := &fixture{sim: sim, clock: clk, tgt: tgt}
		f.add(t, uuid(1), "failed run", simulator.ReferenceRetrievalID, simulator.StatusFailed, time.Minute)
		if !first {
			f.snapshot(t)
		}
		if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultStatus, Status: 500}); err != nil {
			t.Fatal(err)
		}
		f.snapshot(t)
		out := logs.String()
		if !strings.Contains(out, `msg="session discovery failed`) || strings.Contains(out, "previously discovered") != !first {
			t.Errorf("discovery failing on the first scrape %v; the log says:\n%s", first, out)
		}
	}
}
