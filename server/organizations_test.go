package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// waitOrganizations waits for the background read in flight, if any.
func (srv *Server) waitOrganizations() {
	srv.mu.Lock()
	done := srv.install.orgs.done
	srv.mu.Unlock()
	if done != nil {
		<-done
	}
}

func newOrgFixture(t *testing.T, version string, collect ...string) *fixture {
	t.Helper()
	f := newFixture(t, orgConfig(version, collect...))
	t.Cleanup(f.tgt.Close)
	return f
}

// orgConfig collects the organizations and the kinds named, the list cached 10 minutes and
// read again in the background every 30.
func orgConfig(version string, collect ...string) config.ServerConfig {
	return config.ServerConfig{APIVersion: version, Collect: append(collect, config.CollectOrganizations),
		CacheTTL: ttl(10 * time.Minute), OrganizationsRefresh: config.Duration(30 * time.Minute)}
}

// scrapeOrgs scrapes, waits for the background read it started, and scrapes again: the
// second snapshot shows what the read learnt.
func scrapeOrgs(t *testing.T, f *fixture) *Snapshot {
	t.Helper()
	scrapeJobs(t, f.tgt)
	f.tgt.waitOrganizations()
	snap, _ := scrapeJobs(t, f.tgt)
	return snap
}

func orgsByID(snap *Snapshot) map[string]OrganizationResult {
	m := map[string]OrganizationResult{}
	for _, r := range snap.Organizations {
		m[string(r.Org.ID)] = r
	}
	return m
}

func collectorErr(snap *Snapshot, name string) error {
	for _, c := range snap.Collectors {
		if c.Name == name {
			return c.Err
		}
	}
	return nil
}

// The demo tenants as v6, v7 and v8 serve them: the repository of v6 and v7 only by link,
// the object storage repository's usedSpaceBytes null, the users counted per organization;
// then warm scrapes read nothing but the cached list, and the background read comes back
// only after organizations_refresh.
func TestOrganizationsEveryVersion(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newOrgFixture(t, version)
			f.sim.LoadDemoData()
			first, _ := scrapeJobs(t, f.tgt)
			if len(first.Organizations) != 4 || first.Organizations[0].Users != nil || first.Organizations[0].Licensing != nil {
				t.Fatalf("the first scrape lists the organizations and waits for nothing: %+v", first.Organizations)
			}
			f.tgt.waitOrganizations()
			snap, _ := scrapeJobs(t, f.tgt)
			if err := collectorErr(snap, config.CollectOrganizations); err != nil || snap.OrganizationsDropped != 0 {
				t.Fatalf("collector: %v, dropped %d", err, snap.OrganizationsDropped)
			}
			orgs := orgsByID(snap)
			c, fab, nw, ts := orgs[simulator.DemoOrgContosoID], orgs[simulator.DemoOrgFabrikamID], orgs[simulator.DemoOrgNorthwindID], orgs[simulator.DemoOrgTailspinID]
			if c.Org.Name != "contoso.onmicrosoft.com" || c.Org.Type != "Office365" || !c.Org.LastBackup.Equal(t0.Add(-8*time.Hour-18*time.Minute)) ||
				nw.Org.Type != "Hybrid" || !ts.Org.LastBackup.IsZero() {
				t.Errorf("organizations %+v %+v %+v", c.Org, nw.Org, ts.Org)
			}
			if c.Licensing == nil || *c.Licensing != (vb365.OrganizationLicensing{Licensed: 262, New: 2}) {
				t.Errorf("contoso licensing %+v", c.Licensing)
			}
			for org, want := range map[*OrganizationResult][2]int64{&c: {262, 0}, &fab: {128, 9}, &nw: {82, 0}, &ts: {0, 0}} {
				if u := org.Users; u == nil || u.Protected != want[0] || u.Unprotected != want[1] || !u.ReadAt.Equal(t0) {
					t.Errorf("%s users %+v, want %v", org.Org.Name, u, want)
				}
			}
			use := map[vb365.ID]vb365.OrganizationUsage{}
			for _, u := range c.Usage {
				use[u.RepositoryID] = u
			}
			full, obj := use[simulator.DemoRepositoryFullID], use[simulator.DemoRepositoryObjectID]
			if len(c.Usage) != 2 || full.UsedBytes == nil || *full.UsedBytes != 3700<<30 || full.ObjectStorageBytes != nil ||
				obj.UsedBytes == nil || *obj.UsedBytes != 12<<30 || obj.ObjectStorageBytes == nil || *obj.ObjectStorageBytes != 1900<<30 {
				t.Errorf("contoso usage %+v", c.Usage)
			}
			if len(ts.Usage) != 0 || ts.Licensing == nil {
				t.Errorf("tailspin (no backups yet) %+v", ts)
			}

			// Warm: within cache_ttl and organizations_refresh, nothing at all is asked.
			before := f.sim.Stats().ByEndpoint
			f.clock.Add(29 * time.Minute)
			scrapeJobs(t, f.tgt)
			f.tgt.waitOrganizations()
			if after := f.sim.Stats().ByEndpoint; !sameCounts(before, after, simulator.EndpointLicensedUsers, simulator.EndpointLicensingInformation, simulator.EndpointUsedRepositories) {
				t.Errorf("warm scrapes within organizations_refresh: %v -> %v", before, after)
			}
			// organizations_refresh later, one background read: each organization's licensing
			// and usage, one page of users.
			f.clock.Add(time.Minute)
			snap = scrapeOrgs(t, f)
			after := f.sim.Stats().ByEndpoint
			if after[simulator.EndpointLicensedUsers] != before[simulator.EndpointLicensedUsers]+1 ||
				after[simulator.EndpointLicensingInformation] != before[simulator.EndpointLicensingInformation]+4 ||
				after[simulator.EndpointUsedRepositories] != before[simulator.EndpointUsedRepositories]+4 {
				t.Errorf("the refresh: %v -> %v", before, after)
			}
			if u := orgsByID(snap)[simulator.DemoOrgFabrikamID].Users; u == nil || !u.ReadAt.Equal(t0.Add(30*time.Minute)) {
				t.Errorf("refreshed counts %+v", u)
			}
		})
	}
}

func sameCounts(a, b map[string]int64, keys ...string) bool {
	for _, k := range keys {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// 100,000 licensed users are counted in one streamed pass of at most 11 pages, keeping
// counts, not users; a warm scrape makes no LicensedUsers request.
func TestOrganizationsHundredThousandUsers(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newOrgFixture(t, version)
			f.sim.GenerateTenants(50, 2000, 0)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			snap := scrapeOrgs(t, f)
			runtime.GC()
			runtime.ReadMemStats(&after)
			if pages := f.sim.Stats().ByEndpoint[simulator.EndpointLicensedUsers]; pages < 10 || pages > 11 {
				t.Errorf("%d pages of users, want 10 or 11", pages)
			}
			var protected, unprotected int64
			for _, r := range snap.Organizations {
				if r.Users == nil {
					t.Fatalf("%s not counted", r.Org.Name)
				}
				protected, unprotected = protected+r.Users.Protected, unprotected+r.Users.Unprotected
			}
			// Every tenth organization has one user in 20 unprotected.
			if len(snap.Organizations) != 50 || protected != 99500 || unprotected != 500 {
				t.Errorf("%d organizations, %d protected, %d unprotected", len(snap.Organizations), protected, unprotected)
			}
			// Kept users would be megabytes (100,000 IDs alone are 3.6 MB).
			if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 2<<20 {
				t.Errorf("the heap kept %d bytes after counting", grown)
			}
			before2 := f.sim.Stats().ByEndpoint[simulator.EndpointLicensedUsers]
			f.clock.Add(time.Minute)
			scrapeJobs(t, f.tgt)
			f.tgt.waitOrganizations()
			if n := f.sim.Stats().ByEndpoint[simulator.EndpointLicensedUsers]; n != before2 {
				t.Errorf("a warm scrape read the users: %d -> %d", before2, n)
			}
		})
	}
}

// An organization added between two refreshes has its licensing and usage read early, in
// the background, without the other organizations' or the users'.
func TestOrganizationAddedReadEarly(t *testing.T) {
	f := newOrgFixture(t, "v8")
	f.sim.LoadDemoData()
	scrapeOrgs(t, f)
	const added = "0e9a0009-0000-4000-8000-000000000009"
	if err := f.sim.AddOrganization(simulator.Organization{ID: added, Name: "new.onmicrosoft.com", LicensedUsers: 5, ProtectedUsers: 5}); err != nil {
		t.Fatal(err)
	}
	before := f.sim.Stats().ByEndpoint
	f.clock.Add(10 * time.Minute) // the list's cache expires, organizations_refresh has not
	snap := scrapeOrgs(t, f)
	after := f.sim.Stats().ByEndpoint
	r := orgsByID(snap)[added]
	if r.Licensing == nil || r.Licensing.Licensed != 5 || r.Users != nil {
		t.Errorf("added organization %+v (its users wait for the refresh)", r)
	}
	if after[simulator.EndpointLicensingInformation] != before[simulator.EndpointLicensingInformation]+1 ||
		after[simulator.EndpointLicensedUsers] != before[simulator.EndpointLicensedUsers] {
		t.Errorf("early read: %v -> %v", before, after)
	}
}

// The organizations fail alone: a list the account may not read, and background reads
// that fail (a user list without end, a huge answer, a 404), each fail only their
// collector, once logged; the last counts stay with their read time, up stays 1.
func TestOrganizationsFailAlone(t *testing.T) {
	f := newOrgFixture(t, "v8", config.CollectLicense)
	var logs bytes.Buffer
	f.tgt.logger = log.NewLogfmtLogger(log.NewSyncWriter(&logs))
	f.sim.GenerateTenants(5, 20000, 0)
	good := scrapeOrgs(t, f)
	if collectorErr(good, config.CollectOrganizations) != nil || good.Organizations[0].Users == nil {
		t.Fatalf("good read: %v", good.Collectors)
	}
	check := func(name string, fault simulator.Fault, wantErr string) {
		t.Helper()
		f.sim.ClearFaults()
		if err := f.sim.SetFault(fault); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(30 * time.Minute)
		snap := scrapeOrgs(t, f)
		err := collectorErr(snap, config.CollectOrganizations)
		if !snap.Up || snap.License == nil || collectorErr(snap, config.CollectLicense) != nil || err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: up %v, license %v, organizations collector %v", name, snap.Up, snap.License, err)
		}
		if fault.Endpoint == simulator.EndpointLicensedUsers {
			if u := snap.Organizations[0].Users; u == nil || !u.ReadAt.Equal(good.Organizations[0].Users.ReadAt) || u.Protected != good.Organizations[0].Users.Protected {
				t.Errorf("%s: the last good counts are kept: %+v", name, u)
			}
		}
	}
	check("endless", simulator.Fault{Endpoint: simulator.EndpointLicensedUsers, Kind: simulator.FaultPageCap, Entries: 10},
		"more than 1000000 users; not counted")
	if n := f.sim.Stats().ByEndpoint[simulator.EndpointLicensedUsers]; n > 11+maxLicensedUserPages {
		t.Errorf("%d user pages read: bounded by %d", n, maxLicensedUserPages)
	}
	check("huge", simulator.Fault{Endpoint: simulator.EndpointLicensedUsers, Kind: simulator.FaultHuge, Bytes: 100 << 20}, "licensedusers")
	check("404", simulator.Fault{Endpoint: simulator.EndpointLicensingInformation, Kind: simulator.FaultStatus, Status: 404}, "HTTP 404")
	if n := strings.Count(logs.String(), "background read of the organizations"); n != 3 {
		t.Errorf("%d lines for three causes:\n%s", n, logs.String())
	}
	f.sim.ClearFaults()
	if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointOrganizations, Kind: simulator.FaultStatus, Status: 403}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(30 * time.Minute)
	snap, _ := scrapeJobs(t, f.tgt)
	if err := collectorErr(snap, config.CollectOrganizations); !snap.Up || snap.License == nil || snap.Organizations != nil || err == nil ||
		!strings.HasPrefix(err.Error(), "the account may not read organizations") {
		t.Errorf("403: up %v, %d organizations, %v", snap.Up, len(snap.Organizations), err)
	}
}

// Closing the server stops a background read in flight (its requests end with it) and
// starts no other.
func TestOrganizationsStopOnClose(t *testing.T) {
	f := newOrgFixture(t, "v7")
	f.sim.LoadDemoData()
	if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointLicensedUsers, Kind: simulator.FaultStall}); err != nil {
		t.Fatal(err)
	}
	scrapeJobs(t, f.tgt)
	for f.sim.Stats().ByEndpoint[simulator.EndpointLicensedUsers] == 0 {
		time.Sleep(time.Millisecond) // until the read stalls in the users
	}
	f.tgt.Close()
	f.tgt.waitOrganizations()
	f.clock.Add(time.Hour)
	scrapeJobs(t, f.tgt)
	f.tgt.mu.Lock()
	running := f.tgt.install.orgs.done != nil
	f.tgt.mu.Unlock()
	if running {
		t.Error("a closed server started a background read")
	}
}

// Organization names are server strings: the password and format characters never reach
// what the exporter shows.
func TestOrganizationNamesScrubbed(t *testing.T) {
	f := newOrgFixture(t, "v6")
	if err := f.sim.AddOrganization(simulator.Organization{ID: "0e9a0009-0000-4000-8000-000000000009", Name: "evil\u202e " + string(f.tgt.cfg.Password) + "\u200b.com"}); err != nil {
		t.Fatal(err)
	}
	snap, _ := scrapeJobs(t, f.tgt)
	if len(snap.Organizations) != 1 || snap.Organizations[0].Org.Name != "evil <secret>.com" {
		t.Errorf("%+v", snap.Organizations)
	}
}

// An organization with no used repositories (the demo's tailspin, never backed up) has had
// its usage read: it is told from one not read yet (the landing page says "not read yet"
// for Usage == nil).
func TestOrganizationWithoutRepositoriesIsRead(t *testing.T) {
	for _, version := range []string{"v6", "v8"} {
		f := newOrgFixture(t, version)
		f.sim.LoadDemoData()
		snap := scrapeOrgs(t, f)
		ts := orgsByID(snap)[simulator.DemoOrgTailspinID]
		if ts.Licensing == nil {
			t.Fatalf("%s: licensing not read: %+v", version, ts)
		}
		if ts.Usage == nil {
			t.Errorf("%s: tailspin's usage was read (0 repositories) but is nil, as if never read", version)
		}
	}
}

// editUsers passes the simulator's answers through, editing LicensedUsers pages.
type editUsers struct {
	h    http.Handler
	edit func(string) string
}

func (e editUsers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(r.URL.Path, "/LicensedUsers") {
		e.h.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = io.WriteString(w, e.edit(rec.Body.String())) // the client sees a short answer if this fails
}

// Licensed users the reader cannot decode (here isBackedUp null on every unprotected user)
// are not left out of the counts without a word: like a list too long, the count is not
// served, the collector fails naming the cause, and the log says it once.
func TestOrganizationUsersUndecodableNotUndercounted(t *testing.T) {
	f := newFixtureBehind(t, orgConfig("v8"), func(sim http.Handler) http.Handler {
		return editUsers{sim, func(s string) string { return strings.ReplaceAll(s, `"isBackedUp":false`, `"isBackedUp":null`) }}
	})
	t.Cleanup(f.tgt.Close)
	var logs bytes.Buffer
	f.tgt.logger = log.NewLogfmtLogger(log.NewSyncWriter(&logs))
	f.sim.LoadDemoData()
	snap := scrapeOrgs(t, f)
	fab := orgsByID(snap)[simulator.DemoOrgFabrikamID]
	err := collectorErr(snap, config.CollectOrganizations)
	if fab.Users != nil || err == nil || !strings.Contains(err.Error(), "users without isBackedUp; not counted") {
		t.Errorf("fabrikam's 9 unprotected users undecodable: users %+v, collector %v", fab.Users, err)
	}
	if fab.Licensing == nil {
		t.Errorf("the licensing is still shown: %+v", fab)
	}
	if n := strings.Count(logs.String(), "users without isBackedUp"); n != 1 {
		t.Errorf("%d log lines name the cause, want 1:\n%s", n, logs.String())
	}
}

// A list that fails does not clear the background read's failure still standing: no
// "failure cleared", and no second warning when the list answers again.
func TestOrganizationsBackgroundFailureNotClearedByFailedList(t *testing.T) {
	f := newOrgFixture(t, "v8")
	var logs bytes.Buffer
	f.tgt.logger = log.NewLogfmtLogger(log.NewSyncWriter(&logs))
	f.sim.LoadDemoData()
	if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointLicensingInformation, Kind: simulator.FaultStatus, Status: 404}); err != nil {
		t.Fatal(err)
	}
	scrapeOrgs(t, f)
	f.sim.ClearFaults()
	if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointOrganizations, Kind: simulator.FaultStatus, Status: 403}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(11 * time.Minute) // past the list's cache, within organizations_refresh
	scrapeJobs(t, f.tgt)
	f.sim.ClearFaults()
	f.clock.Add(11 * time.Minute)
	snap, _ := scrapeJobs(t, f.tgt)
	if err := collectorErr(snap, config.CollectOrganizations); err == nil || !strings.Contains(err.Error(), "background read") {
		t.Fatalf("the background failure stands until the next refresh: %v", err)
	}
	if n := strings.Count(logs.String(), `msg="background read of the organizations`); n != 1 {
		t.Errorf("%d warnings for one background failure, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), `cause="organizations: background`) {
		t.Errorf("a failed list cleared the background failure:\n%s", logs.String())
	}
}

// A server that stalls the restores and the organization list, both read on the scrape,
// costs a scrape its deadline and no more: up stays 1, the license is shown, the two
// collectors fail; a second scrape that arrives meanwhile (the restores' state held by the
// first) answers by its own deadline too.
func TestTenantKindsStalledBoundedByDeadline(t *testing.T) {
	f := newOrgFixture(t, "v8", config.CollectLicense, config.CollectRestores)
	f.sim.LoadDemoData()
	for _, ep := range []string{simulator.EndpointRestoreSessions, simulator.EndpointOrganizations} {
		if err := f.sim.SetFault(simulator.Fault{Endpoint: ep, Kind: simulator.FaultStall}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(f.sim.ClearFaults) // the stalled handlers end before the server closes
	got := make(chan *Snapshot, 2)
	for range 2 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			got <- f.tgt.Snapshot(ctx)
		}()
	}
	for range 2 {
		select {
		case s := <-got:
			if !s.Up || s.License == nil || collectorErr(s, config.CollectLicense) != nil {
				t.Errorf("up %v, license %v (%v): the stalled kinds took the others down", s.Up, s.License, collectorErr(s, config.CollectLicense))
			}
			for _, kind := range []string{config.CollectRestores, config.CollectOrganizations} {
				if err := collectorErr(s, kind); err == nil || vb365.Reason(err) != "timeout" {
					t.Errorf("%s: %v, want the stalled read ended by the deadline", kind, err)
				}
			}
		// Not a speed assertion: a scrape bound by its 2 s deadline that has not answered
		// in a minute waits for the stalled server, which never answers.
		case <-time.After(time.Minute):
			t.Fatal("a scrape did not answer while the restores and organizations stall")
		}
	}
}
