package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	promconfig "github.com/prometheus/common/config"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// restoreFixture is a simulator serving restores and a way to start the exporter's Server
// on it, again for a restart; its logs are kept.
type restoreFixture struct {
	sim     *simulator.Simulator
	clock   *clock
	url     string
	name    string
	version string
	pw      string
	mu      sync.Mutex
	logs    bytes.Buffer
	// logged is shared by the Servers the fixture starts, as a pool shares it.
	logged *restoresLogged
}

func newRestoreFixture(t *testing.T, version, password string) *restoreFixture {
	t.Helper()
	f := &restoreFixture{clock: &clock{now: t0}, version: version, pw: password, name: "prod", logged: newRestoresLogged()}
	f.sim = simulator.New(simulator.Options{Username: "u", Password: password, Now: f.clock.Now})
	srv := httptest.NewServer(f.sim)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *restoreFixture) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs.Write(p)
}

func (f *restoreFixture) log() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs.String()
}

// start starts a Server, as the exporter does at start and on a reload that rebuilds it.
func (f *restoreFixture) start(t *testing.T) *Server {
	t.Helper()
	cfg := &config.ServerConfig{Name: f.name, URL: f.url, APIVersion: f.version, Username: "u", Password: promconfig.Secret(f.pw), MaxConcurrentRequests: 4,
		CacheTTL: ttl(0), Collect: []string{config.CollectRestores}, RestoreWindow: config.Duration(time.Hour)}
	tgt, err := New(cfg, Options{Logger: log.NewLogfmtLogger(f), Now: f.clock.Now, restoresLogged: f.logged})
	if err != nil {
		t.Fatal(err)
	}
	return tgt
}

func (f *restoreFixture) add(t *testing.T, rs simulator.RestoreSession) {
	t.Helper()
	if rs.Name == "" {
		rs.Name = "restore"
	}
	if err := f.sim.AddRestoreSession(rs); err != nil {
		t.Fatal(err)
	}
}

// scrape reads once and returns the restores and the restores collector's error.
func (f *restoreFixture) scrape(t *testing.T, tgt *Server) (*RestoreResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := tgt.Snapshot(ctx)
	if !s.Up {
		t.Fatalf("not up: %v", s.Err)
	}
	for _, c := range s.Collectors {
		if c.Name == config.CollectRestores {
			return s.Restores, c.Err
		}
	}
	t.Fatalf("no restores collector in %+v", s.Collectors)
	return nil, nil
}

func (f *restoreFixture) mustScrape(t *testing.T, tgt *Server) *RestoreResult {
	t.Helper()
	r, err := f.scrape(t, tgt)
	if err != nil || r == nil {
		t.Fatalf("restores: %v, %v", r, err)
	}
	return r
}

// requests are the list and get requests since the last call.
func (f *restoreFixture) requests() (list, get int64) {
	st := f.sim.Stats()
	f.sim.ResetStats()
	return st.ByEndpoint[simulator.EndpointRestoreSessions], st.ByEndpoint[simulator.EndpointRestoreSession]
}

func rid(i int) string { return fmt.Sprintf("4e570000-0000-4000-8000-%012d", i) }

// totals renders the non-zero counter values, and how many label sets there are.
func totals(r *RestoreResult) string {
	var out []string
	for _, c := range r.Totals {
		if c.Count != 0 {
			out = append(out, fmt.Sprintf("%s/%s/%s=%v", c.Organization, c.Type, c.Result, c.Count))
		}
	}
	return fmt.Sprintf("%d sets %v", len(r.Totals), out)
}

func rids(rs []vb365.RestoreSession) string {
	var out []string
	for _, r := range rs {
		out = append(out, strings.TrimPrefix(string(r.ID), "4e570000-0000-4000-8000-00000000"))
	}
	return strings.Join(out, ",")
}

// auditLines are the audit lines logged for restore i.
func auditLines(logs string, i int) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `msg="restore session ended"`) && strings.Contains(l, "id="+rid(i)) {
			out = append(out, l)
		}
	}
	return out
}

// The life of restores, as v6, v7 and v8 serve them: the history at start is shown and
// logged but not counted; a running restore is followed by ID and counted once when it
// ends; a new one that ended between two scrapes too; a restart counts nothing again and
// logs nothing again; a warm scrape costs one list and one get per running restore not
// in the list.
func TestRestoresEveryVersion(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newRestoreFixture(t, version, "p")
			ago := func(d time.Duration) time.Time { return t0.Add(-d) }
			f.add(t, simulator.RestoreSession{ID: rid(1), Organization: "contoso", Type: simulator.RestoreExchange, CreationTime: ago(40 * time.Minute),
				EndTime: ago(30 * time.Minute), Result: simulator.StatusFailed, InitiatedBy: `CONTOSO\jane`, ClientHost: "console1", ScopeName: "portal", Reason: "INC-1"})
			f.add(t, simulator.RestoreSession{ID: rid(2), Organization: "contoso", Type: simulator.RestoreOneDrive, CreationTime: ago(4 * time.Hour),
				EndTime: ago(3 * time.Hour)})
			f.add(t, simulator.RestoreSession{ID: rid(3), Organization: "fabrikam", Type: simulator.RestoreTeams, CreationTime: ago(20 * time.Minute),
				InitiatedBy: "op1"})
			f.add(t, simulator.RestoreSession{ID: rid(4), Organization: "fabrikam", Type: simulator.RestoreTeams, CreationTime: ago(5 * time.Minute),
				InitiatedBy: "op1"})
			tgt := f.start(t)
			r := f.mustScrape(t, tgt)
			// History: every organization/type seen has its three results, all 0.
			if got := totals(r); got != "9 sets []" || rids(r.Recent) != "0001" || rids(r.Running) != "0004,0003" || rids(r.Latest) != "0004,0003,0001,0002" || r.Dropped != 0 {
				t.Errorf("first read: totals %s, recent %s, running %s, latest %s", got, rids(r.Recent), rids(r.Running), rids(r.Latest))
			}
			if l := auditLines(f.log(), 1); len(l) != 1 || !strings.Contains(l[0], "history=true") ||
				!strings.Contains(l[0], `organization=contoso type=Exchange initiated_by=CONTOSO\jane client_host=console1 scope=portal result=Failed duration_seconds=600 reason=INC-1`) {
				t.Errorf("audit line of the history: %q", l)
			}
			if l := auditLines(f.log(), 2); len(l) != 0 {
				t.Errorf("a restore that ended before the window is logged: %q", l)
			}
			list, get := f.requests()
			if want := map[bool]int64{true: 2, false: 1}[version == "v8"]; list != want || get != 0 {
				t.Errorf("first read: %d lists, %d gets; want %d lists", list, get, want)
			}

			// Warm and quiet: one list (from the newest, which sends 4 again) and restore 3 by ID.
			f.clock.Add(time.Minute)
			r = f.mustScrape(t, tgt)
			if list, get := f.requests(); list != 1 || get != 1 {
				t.Errorf("warm scrape: %d lists, %d gets; want 1 and 1", list, get)
			}
			if got := totals(r); got != "9 sets []" || rids(r.Running) != "0004,0003" {
				t.Errorf("warm scrape: %s, running %s", got, rids(r.Running))
			}

			// 3 ends Failed, 5 starts and ends between two scrapes: both counted, once.
			if err := f.sim.UpdateRestoreSession(rid(3), func(rs *simulator.RestoreSession) {
				rs.EndTime, rs.Result = f.clock.Now(), simulator.StatusFailed
			}); err != nil {
				t.Fatal(err)
			}
			f.add(t, simulator.RestoreSession{ID: rid(5), Organization: "northwind", Type: simulator.RestoreSharePoint, CreationTime: f.clock.Now().Add(-30 * time.Second),
				EndTime: f.clock.Now().Add(-10 * time.Second), Result: simulator.StatusSuccess})
			for range 3 {
				f.clock.Add(time.Minute)
				r = f.mustScrape(t, tgt)
				if got := totals(r); got != "12 sets [fabrikam/Teams/Failed=1 northwind/SharePoint/Success=1]" || rids(r.Recent) != "0003,0005,0001" || rids(r.Running) != "0004" {
					t.Errorf("after two ends: %s, recent %s, running %s", got, rids(r.Recent), rids(r.Running))
				}
			}
			for _, i := range []int{3, 5} {
				if l := auditLines(f.log(), i); len(l) != 1 || strings.Contains(l[0], "history") {
					t.Errorf("audit lines of %d: %q", i, l)
				}
			}

			// A restart (or a reload that rebuilds the Server): the window's ends are history,
			// not counted again, and not logged again by this process.
			f.requests()
			again := f.start(t)
			r = f.mustScrape(t, again)
			if got := totals(r); got != "12 sets []" || rids(r.Recent) != "0003,0005,0001" || rids(r.Running) != "0004" {
				t.Errorf("after a restart: %s, recent %s, running %s", got, rids(r.Recent), rids(r.Running))
			}
			for _, i := range []int{1, 3, 5} {
				if l := auditLines(f.log(), i); len(l) != 1 {
					t.Errorf("restore %d logged %d times in one process", i, len(l))
				}
			}

			// The window moves on: 1 leaves the recent restores an hour after it ended.
			f.clock.Add(30 * time.Minute)
			if r = f.mustScrape(t, again); rids(r.Recent) != "0003,0005" {
				t.Errorf("recent after the window passed 1: %s", rids(r.Recent))
			}
		})
	}
}

// The benchmark's server: 10,000 restores of history, the newest two running. A warm scrape
// makes at most 5 restore requests; the first read's list is bounded.
func TestRestoresWarmScrapeCost(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newRestoreFixture(t, version, "p")
			f.sim.GenerateTenants(50, 0, 10000)
			tgt := f.start(t)
			r := f.mustScrape(t, tgt)
			list, get := f.requests()
			// One restore every six minutes: 25 hours of history are ~250, one page each.
			if want := map[bool]int64{true: 2, false: 1}[version == "v8"]; list != want || get != 0 {
				t.Errorf("first read: %d lists, %d gets", list, get)
			}
			if len(r.Running) != 2 || len(r.Recent) < 8 || len(r.Recent) > 10 || totals(r) == "0 sets []" {
				t.Errorf("first read: %d running, %d recent, %s", len(r.Running), len(r.Recent), totals(r))
			}
			for range 3 {
				f.clock.Add(time.Minute)
				f.mustScrape(t, tgt)
				if list, get := f.requests(); list+get > 5 || list != 1 || get != 1 {
					t.Errorf("warm scrape: %d lists, %d gets", list, get)
				}
			}
		})
	}
}

// More running restores than a scrape reads by ID: each is still read within a few
// scrapes, least recently read first, and the request count stays bounded.
func TestRestoresFollowedBounded(t *testing.T) {
	f := newRestoreFixture(t, "v7", "p")
	for i := range 10 {
		f.add(t, simulator.RestoreSession{ID: rid(i), Organization: "contoso", Type: simulator.RestoreExchange, CreationTime: t0.Add(-time.Duration(60-2*i) * time.Minute)})
	}
	tgt := f.start(t)
	f.mustScrape(t, tgt)
	f.requests()
	for i := range 9 { // all but the newest, which the list sends
		if err := f.sim.UpdateRestoreSession(rid(i), func(rs *simulator.RestoreSession) { rs.EndTime = f.clock.Now() }); err != nil {
			t.Fatal(err)
		}
	}
	for n := range 3 {
		f.clock.Add(time.Minute)
		r := f.mustScrape(t, tgt)
		if list, get := f.requests(); list != 1 || get != maxFollowedRestores && n < 2 {
			t.Errorf("scrape %d: %d lists, %d gets", n, list, get)
		}
		if want := fmt.Sprintf("3 sets [contoso/Exchange/Success=%d]", min(9, 4*(n+1))); totals(r) != want {
			t.Errorf("scrape %d: %s, want %s", n, totals(r), want)
		}
	}
}

// What the bounds keep: counter label sets beyond MaxRestoreLabelSets count their restores
// in Dropped; running restores beyond MaxRunningRestores are left out and said.
func TestRestoreLabelSetsBounded(t *testing.T) {
	f := newRestoreFixture(t, "v8", "p")
	tgt := f.start(t)
	f.mustScrape(t, tgt)
	n := MaxRestoreLabelSets/3 + 20
	for i := range n {
		f.add(t, simulator.RestoreSession{ID: rid(i), Organization: fmt.Sprint("org", i), Type: simulator.RestoreExchange,
			CreationTime: t0.Add(time.Duration(i) * time.Millisecond), EndTime: t0.Add(time.Minute), Result: simulator.StatusFailed})
	}
	f.clock.Add(2 * time.Minute)
	r := f.mustScrape(t, tgt)
	counted := 0
	for _, c := range r.Totals {
		counted += int(c.Count)
	}
	if len(r.Totals) != MaxRestoreLabelSets || counted+r.Dropped != n || r.Dropped < 18 {
		t.Errorf("%d label sets, %d counted, %d dropped of %d", len(r.Totals), counted, r.Dropped, n)
	}
	for i := range MaxRunningRestores + 5 {
		f.add(t, simulator.RestoreSession{ID: rid(1000 + i), Organization: "contoso", Type: simulator.RestoreTeams,
			CreationTime: f.clock.Now().Add(time.Duration(i) * time.Millisecond), InitiatedBy: fmt.Sprint("operator", i)})
	}
	f.clock.Add(time.Minute)
	r, err := f.scrape(t, tgt)
	if err != nil || len(r.Running) != MaxRunningRestores || !strings.Contains(f.log(), "more restores run at once than the exporter follows") {
		t.Errorf("%d running kept: %v", len(r.Running), err)
	}
}

// Restores the account may not read (403), or a version without them (404), fail the
// restores collector alone; an endless list is cut at its bound, said, and fails nothing.
func TestRestoresFailAlone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault simulator.Fault
		err   string
	}{
		{"403", simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultStatus, Status: 403}, "the account may not read restores"},
		{"404", simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultStatus, Status: 404}, "the server does not serve restores at this api_version"},
		{"huge", simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultHuge}, "restoresessions"},
		{"endless", simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultEndless, Bytes: 64}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRestoreFixture(t, "v8", "p")
			f.add(t, simulator.RestoreSession{ID: rid(1), Organization: "contoso", Type: simulator.RestoreExchange, CreationTime: t0.Add(-time.Minute)})
			if err := f.sim.SetFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			cfg := &config.ServerConfig{Name: f.name, URL: f.url, APIVersion: "v8", Username: "u", Password: "p", MaxConcurrentRequests: 4,
				CacheTTL: ttl(0), Collect: []string{config.CollectLicense, config.CollectRestores}, RestoreWindow: config.Duration(time.Hour)}
			tgt, err := New(cfg, Options{Logger: log.NewLogfmtLogger(f), Now: f.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s := tgt.Snapshot(ctx)
			errs := map[string]string{}
			for _, c := range s.Collectors {
				errs[c.Name] = fmt.Sprint(c.Err)
			}
			if !s.Up || s.License == nil || errs["license"] != "<nil>" || errs["logs"] != "<nil>" || len(errs) != 3 {
				t.Fatalf("up %v, license %v, collectors %v", s.Up, s.License, errs)
			}
			if tc.err == "" {
				if errs["restores"] != "<nil>" || s.Restores == nil || !strings.Contains(f.log(), "more restores than one read takes") {
					t.Errorf("endless list: %v, %v\n%s", errs["restores"], s.Restores, f.log())
				}
				return
			}
			if !strings.Contains(errs["restores"], tc.err) || s.Restores != nil {
				t.Errorf("restores collector: %s, result %v", errs["restores"], s.Restores)
			}
		})
	}
}

// A hostile server's strings: every form of the password and format characters in the
// initiator, organization, reason and client host are scrubbed in what is kept and in the
// audit line.
func TestRestoreStringsScrubbed(t *testing.T) {
	const pw = "Wx7  Qz9-Kp2!m"
	forms := []string{pw, strings.ToUpper(pw), "Wx7 Qz9-Kp2!m", "qz9-kp2!", "Wx7++Qz9-Kp2%21m", `\u0057\u0078\u0037\u0020\u0020\u0051\u007a\u0039\u002d\u004b\u0070\u0032\u0021\u006d`}
	format := "\u200b\u202e\u2066\ufeff"
	f := newRestoreFixture(t, "v8", pw)
	for i, form := range forms {
		s := simulator.RestoreSession{ID: rid(i), Organization: "org" + format + form, Type: simulator.RestoreExchange,
			CreationTime: t0.Add(-10 * time.Minute), InitiatedBy: "CORP\\" + form + format, Reason: "password=" + form, ClientHost: format + form,
			ScopeName: form, Result: simulator.StatusFailed}
		if i%2 == 0 {
			s.EndTime = t0.Add(-time.Minute)
		}
		f.add(t, s)
	}
	r := f.mustScrape(t, f.start(t))
	all := slices.Concat(r.Recent, r.Running, r.Latest)
	if len(r.Recent) != 3 || len(r.Running) != 3 {
		t.Fatalf("%d recent, %d running", len(r.Recent), len(r.Running))
	}
	var texts []string
	for _, x := range all {
		texts = append(texts, x.Organization, x.InitiatedBy, x.Reason, x.ClientHost, x.Scope)
	}
	for _, c := range r.Totals {
		texts = append(texts, c.Organization)
	}
	texts = append(texts, f.log())
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	for _, s := range texts {
		for _, form := range append(forms, "qz9-kp2!") {
			if strings.Contains(norm(s), norm(form)) {
				t.Errorf("password form %q in %q", form, s)
			}
		}
		if strings.ContainsAny(s, format) {
			t.Errorf("format character in %q", s)
		}
	}
	if n := strings.Count(f.log(), `msg="restore session ended"`); n != 3 || !strings.Contains(f.log(), `initiated_by=CORP\<secret>`) {
		t.Errorf("%d audit lines:\n%s", n, f.log())
	}
}

// A burst longer than one list takes (pages capped at 3 entries: 30 restores a read) is
// counted, not taken for history, and the next scrape goes on from where the cut list
// stopped.
func TestRestoreBurstCounted(t *testing.T) {
	for _, version := range []string{"v6", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newRestoreFixture(t, version, "p")
			tgt := f.start(t)
			f.mustScrape(t, tgt)
			if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultPageCap, Entries: 3}); err != nil {
				t.Fatal(err)
			}
			for i := range 40 {
				created := t0.Add(time.Duration(i) * 10 * time.Second)
				f.add(t, simulator.RestoreSession{ID: rid(i), Organization: "contoso", Type: simulator.RestoreExchange,
					CreationTime: created, EndTime: created.Add(time.Second), Result: simulator.StatusFailed})
			}
			f.clock.Add(10 * time.Minute)
			if r := f.mustScrape(t, tgt); totals(r) != "3 sets [contoso/Exchange/Failed=30]" || !strings.Contains(f.log(), "more restores than one read takes") {
				t.Errorf("cut read: %s", totals(r))
			}
			for range 2 {
				f.clock.Add(time.Minute)
				if r := f.mustScrape(t, tgt); totals(r) != "3 sets [contoso/Exchange/Failed=40]" {
					t.Errorf("after the cut: %s", totals(r))
				}
			}
		})
	}
}

// A running restore that cannot be read by ID fails the restores collector, keeps what is
// known shown and is read again; one that is gone (404) is forgotten.
func TestRunningRestoreNotRead(t *testing.T) {
	f := newRestoreFixture(t, "v7", "p")
	f.add(t, simulator.RestoreSession{ID: rid(1), Organization: "contoso", Type: simulator.RestoreExchange, CreationTime: t0.Add(-30 * time.Minute)})
	f.add(t, simulator.RestoreSession{ID: rid(2), Organization: "contoso", Type: simulator.RestoreExchange, CreationTime: t0.Add(-20 * time.Minute)})
	f.add(t, simulator.RestoreSession{ID: rid(3), Organization: "contoso", Type: simulator.RestoreExchange, CreationTime: t0.Add(-time.Minute)})
	tgt := f.start(t)
	f.mustScrape(t, tgt)
	for _, fault := range []simulator.Fault{
		{Endpoint: simulator.EndpointRestoreSession, SessionID: rid(1), Kind: simulator.FaultStatus, Status: 500},
		{Endpoint: simulator.EndpointRestoreSession, SessionID: rid(2), Kind: simulator.FaultStatus, Status: 404},
	} {
		if err := f.sim.SetFault(fault); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Add(time.Minute)
	r, err := f.scrape(t, tgt)
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || r == nil || rids(r.Running) != "0003,0001" || rids(r.Latest) != "0003,0001" {
		t.Fatalf("running restores: %v, %+v", err, r)
	}
	if !strings.Contains(f.log(), "running restores not read by ID") {
		t.Errorf("not logged:\n%s", f.log())
	}
	// It ended while it could not be read, longer ago than the window: counted and logged
	// all the same, but not recent.
	if err := f.sim.UpdateRestoreSession(rid(1), func(rs *simulator.RestoreSession) { rs.EndTime = f.clock.Now() }); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Hour)
	if r, err := f.scrape(t, tgt); err == nil || totals(r) != "3 sets []" {
		t.Fatalf("while the fault lasts: %v, %s", err, totals(r))
	}
	f.sim.ClearFaults()
	f.clock.Add(time.Minute)
	if r := f.mustScrape(t, tgt); totals(r) != "3 sets [contoso/Exchange/Success=1]" || rids(r.Running) != "0003" || len(r.Recent) != 0 {
		t.Errorf("after the fault: %s, running %s, recent %s", totals(r), rids(r.Running), rids(r.Recent))
	}
	if l := auditLines(f.log(), 1); len(l) != 1 || !strings.Contains(l[0], "duration_seconds=1860") || strings.Contains(l[0], "history") {
		t.Errorf("audit line of a restore seen ending late: %q", l)
	}
}

// startTimeFrom is sent to the second (floored): the IDs kept must reach back as far, or a
// restore created within that second is sent again, not known, and counted (history!) again
// at every scrape. Two restores 60.2 s apart did it.
func TestRestoreCreatedWithinTheFlooredSecondNotCountedAgain(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newRestoreFixture(t, version, "p")
			// History: ended before the exporter starts; must never be counted.
			f.add(t, simulator.RestoreSession{ID: rid(1), Organization: "contoso", Type: simulator.RestoreExchange,
				CreationTime: t0.Add(-10*time.Minute + 300*time.Millisecond), EndTime: t0.Add(-9 * time.Minute), Result: simulator.StatusSuccess})
			f.add(t, simulator.RestoreSession{ID: rid(2), Organization: "contoso", Type: simulator.RestoreExchange,
				CreationTime: t0.Add(-9*time.Minute + 500*time.Millisecond), EndTime: t0.Add(-8 * time.Minute), Result: simulator.StatusSuccess})
			tgt := f.start(t)
			for i := range 4 {
				r := f.mustScrape(t, tgt)
				if got := totals(r); got != "3 sets []" {
					t.Errorf("scrape %d: %s, recent %s", i, got, rids(r.Recent))
				}
				f.clock.Add(time.Minute)
			}
		})
	}
}

// A first read cut by its bound: the catch-up lists that follow take what ended before it as
// history, but a restore that started and ended after the exporter started is counted.
func TestRestoreEndedAfterACutFirstReadCounted(t *testing.T) {
	for _, version := range []string{"v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newRestoreFixture(t, version, "p")
			for i := range 40 {
				created := t0.Add(-time.Duration(40-i) * time.Minute)
				f.add(t, simulator.RestoreSession{ID: rid(i), Organization: "contoso", Type: simulator.RestoreExchange,
					CreationTime: created, EndTime: created.Add(time.Second), Result: simulator.StatusSuccess})
			}
			if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultPageCap, Entries: 3}); err != nil {
				t.Fatal(err)
			}
			tgt := f.start(t)
			f.mustScrape(t, tgt)
			// After the start: restore 100 runs and ends between two scrapes.
			f.add(t, simulator.RestoreSession{ID: rid(100), Organization: "contoso", Type: simulator.RestoreExchange,
				CreationTime: t0.Add(10 * time.Second), EndTime: t0.Add(20 * time.Second), Result: simulator.StatusFailed})
			f.clock.Add(time.Minute)
			for i := range 3 {
				r := f.mustScrape(t, tgt)
				t.Logf("scrape %d: %s", i, totals(r))
				f.clock.Add(time.Minute)
			}
			if r := f.mustScrape(t, tgt); totals(r) != "3 sets [contoso/Exchange/Failed=1]" {
				t.Errorf("a restore that started and ended while the exporter runs: %s", totals(r))
			}
		})
	}
}

// v8's first read: the endTimeFrom list must not move where the next list starts past where
// the cut startTimeFrom list stopped, or a restore running from between the two is never
// listed nor followed, nor counted when it ends.
func TestRestoreRunningPastACutV8FirstReadFollowed(t *testing.T) {
	f := newRestoreFixture(t, "v8", "p")
	for i := range 40 {
		created := t0.Add(-20*time.Hour + time.Duration(i)*10*time.Minute)
		f.add(t, simulator.RestoreSession{ID: rid(i), Organization: "contoso", Type: simulator.RestoreExchange,
			CreationTime: created, EndTime: created.Add(time.Second), Result: simulator.StatusSuccess})
	}
	f.add(t, simulator.RestoreSession{ID: rid(200), Organization: "contoso", Type: simulator.RestoreTeams, CreationTime: t0.Add(-30 * time.Minute), InitiatedBy: "op"})
	f.add(t, simulator.RestoreSession{ID: rid(201), Organization: "contoso", Type: simulator.RestoreExchange, CreationTime: t0.Add(-20 * time.Minute),
		EndTime: t0.Add(-15 * time.Minute), Result: simulator.StatusSuccess})
	if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultPageCap, Entries: 3}); err != nil {
		t.Fatal(err)
	}
	tgt := f.start(t)
	r := f.mustScrape(t, tgt)
	t.Logf("first read: running %s recent %s", rids(r.Running), rids(r.Recent))
	f.sim.ClearFaults()
	if err := f.sim.UpdateRestoreSession(rid(200), func(rs *simulator.RestoreSession) {
		rs.EndTime, rs.Result = t0.Add(30*time.Second), simulator.StatusFailed
	}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		f.clock.Add(time.Minute)
		r = f.mustScrape(t, tgt)
	}
	if totals(r) != "6 sets [contoso/Teams/Failed=1]" {
		t.Errorf("restore 200, running at start and ended after it: %s, recent %s", totals(r), rids(r.Recent))
	}
}
