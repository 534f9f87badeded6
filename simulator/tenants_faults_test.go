package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func tenantFaultEnv(t *testing.T, faults ...Fault) (*env, string) {
	t.Helper()
	return setupFaultEnv(t, addTestTenants, faults...)
}

// The existing fault kinds reach each tenant endpoint alone, and a SessionID narrows one to a
// restore session.
func TestTenantFaultsByEndpoint(t *testing.T) {
	paths := map[string]string{
		EndpointOrganizations:        "/v8/Organizations/" + tOrg,
		EndpointLicensingInformation: "/v8/Organizations/" + tOrg + "/LicensingInformation",
		EndpointUsedRepositories:     "/v8/Organizations/" + tOrg + "/usedRepositories",
		EndpointLicensedUsers:        "/v8/LicensedUsers",
		EndpointRestoreSessions:      "/v8/RestoreSessions",
		EndpointRestoreSession:       "/v8/RestoreSessions/" + tRestoreRun,
	}
	checkFaultPerEndpoint(t, addTestTenants, paths)
	e, tok := tenantFaultEnv(t, Fault{Endpoint: EndpointAny, SessionID: strings.ToUpper(tRestoreRun), Kind: FaultEcho})
	if r := e.get("/v8/RestoreSessions/"+tRestoreRun, tok); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Bearer "+tok) {
		t.Errorf("echo on the restore session: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/v8/RestoreSessions/" + tRestoreBad, "/v8/RestoreSessions"} {
		if r := e.get(p, tok); r.status != http.StatusOK {
			t.Errorf("%s: %d, want no fault", p, r.status)
		}
	}
	e, tok = tenantFaultEnv(t, Fault{Endpoint: EndpointLicensedUsers, Kind: FaultTruncated, Count: 1})
	if r := e.get("/v8/Organizations", tok); r.status != http.StatusOK {
		t.Errorf("organizations under a users fault: %d", r.status)
	}
	if _, _, err := e.rawGet(t.Context(), "/v8/LicensedUsers", tok); err == nil {
		t.Error("a truncated users page read whole")
	}
}

func TestTenantListFaults(t *testing.T) {
	e, tok := tenantFaultEnv(t, Fault{Endpoint: EndpointAny, Kind: FaultPageCap, Entries: 2})
	for _, path := range []string{"/v8/LicensedUsers?limit=5", "/v8/RestoreSessions?limit=5", "/v8/Organizations?limit=5", "/v6/LicensedUsers?limit=5"} {
		tk := tok
		if strings.HasPrefix(path, "/v6") {
			tk = e.login("v6").AccessToken
		}
		if p := decodeTestPage(t, e.get(path, tk)); len(p.Results) != 2 || p.Limit != 5 || !strings.Contains(p.Links["next"].Href, "offset=2") {
			t.Errorf("%s capped: %d results, limit %d, next %q", path, len(p.Results), p.Limit, p.Links["next"].Href)
		}
	}
	var orgs []json.RawMessage
	mustJSON(t, e.get("/v7/Organizations", e.login("v7").AccessToken).body, &orgs)
	if len(orgs) != 5 {
		t.Errorf("v7 organizations (an array) under a page cap: %d", len(orgs))
	}

	e, tok = tenantFaultEnv(t, Fault{Endpoint: EndpointRestoreSessions, Kind: FaultEndless, Entries: 4, Bytes: 300})
	for _, ver := range []string{"v7", "v8"} {
		p := decodeTestPage(t, e.get("/"+ver+"/RestoreSessions?offset=8&limit=10", e.login(ver).AccessToken))
		if len(p.Results) != 4 || p.Offset != 8 || !strings.HasPrefix(p.Links["next"].Href, "/"+ver+"/RestoreSessions?") || ver == "v7" && *p.TotalCount <= 12 {
			t.Errorf("%s endless restores: %d, next %q", ver, len(p.Results), p.Links["next"].Href)
		}
		var rs map[string]any
		mustJSON(t, p.Results[0], &rs)
		if len(rs["name"].(string)) != 300 || rs["state"] != RestoreStopped {
			t.Errorf("%s endless restore %v", ver, rs)
		}
	}
	if r := e.get("/v8/RestoreSessions/"+tRestoreRun, tok); r.status != http.StatusOK {
		t.Errorf("one restore under an endless list: %d", r.status)
	}

	e, tok = tenantFaultEnv(t, Fault{Endpoint: EndpointOrganizations, Kind: FaultHugeList, Entries: 2500})
	var all []map[string]any
	mustJSON(t, e.get("/v6/Organizations", e.login("v6").AccessToken).body, &all)
	if len(all) != 2500 {
		t.Errorf("v6 huge organizations: %d", len(all))
	}
	if p := decodeTestPage(t, e.get("/v8/Organizations?offset=2400&limit=1000", tok)); len(p.Results) != 100 || p.Links["next"].Href != "" {
		t.Errorf("v8 huge organizations, last page: %d", len(p.Results))
	}

	e, tok = tenantFaultEnv(t, Fault{Endpoint: EndpointAny, Kind: FaultLongEnum, Bytes: 64})
	for path, keys := range map[string][]string{
		"/v8/RestoreSessions/" + tRestoreBad: {"state", "result", "type"},
		"/v8/Organizations/" + tOrg:          {"type", "region"},
	} {
		m := decodeMap(t, e.get(path, tok).body)
		for _, k := range keys {
			if v, _ := m[k].(string); len(v) != 64 || !strings.HasPrefix(v, "Unknown") {
				t.Errorf("%s: %s = %q", path, k, v)
			}
		}
	}
	var users anyPage
	e.getJSON("/v8/LicensedUsers?limit=1", tok, &users)
	if v, _ := users.Results[0]["licenseState"].(string); len(v) != 64 {
		t.Errorf("licenseState under longenum: %q", v)
	}
}

func TestTenantStats(t *testing.T) {
	e, tok := tenantFaultEnv(t)
	e.sim.ResetStats()
	e.get("/v8/Organizations", tok)
	e.get("/v8/Organizations/"+tOrg, tok)
	e.get("/v8/Organizations/"+tOrg+"/LicensingInformation", tok)
	e.get("/v8/Organizations/"+tOrg+"/usedRepositories", tok)
	e.get("/v8/LicensedUsers", tok)
	e.get("/v8/LicensedUsers?offset=30", tok)
	e.get("/v8/RestoreSessions", tok)
	e.get("/v8/RestoreSessions/"+strings.ToUpper(tRestoreRun), tok)
	e.get("/v8/RestoreSessions/"+tRestoreRun, "")
	st := e.sim.Stats()
	want := map[string]int64{EndpointOrganizations: 2, EndpointLicensingInformation: 1, EndpointUsedRepositories: 1,
		EndpointLicensedUsers: 2, EndpointRestoreSessions: 1, EndpointRestoreSession: 2}
	if !reflect.DeepEqual(st.ByEndpoint, want) || st.ByStatus[401] != 1 || st.BySession[tRestoreRun] != 2 {
		t.Errorf("by endpoint %v (want %v), by status %v, by session %v", st.ByEndpoint, want, st.ByStatus, st.BySession)
	}
}

// discard is a ResponseWriter that keeps nothing, so allocations are the simulator's own.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }

// 100,000 licensed users cost no memory until listed, and a page costs what it holds: as
// many allocations at the end of the list as at its start, and as many among 100,000 users
// as among 1,000.
func TestLicensedUsersBoundedMemory(t *testing.T) {
	sim := New(Options{Username: testUser, Password: testPassword})
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	sim.GenerateTenants(50, 2000, 10000)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if grew := int64(m1.HeapAlloc) - int64(m0.HeapAlloc); grew > 1<<20 {
		t.Errorf("50 organizations of 2,000 users and 10,000 restores took %d bytes", grew)
	}
	tok := issueTestToken(sim)
	allocs := func(path string) float64 {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return testing.AllocsPerRun(3, func() { sim.ServeHTTP(&discard{h: http.Header{}}, req) })
	}
	first, last := allocs("/v8/LicensedUsers?limit=1000"), allocs("/v8/LicensedUsers?offset=99000&limit=1000")
	big := allocs("/v8/LicensedUsers?limit=10000")
	sim.GenerateTenants(1, 1000, 0)
	small := allocs("/v8/LicensedUsers?limit=1000")
	if last > first*1.05 || first > small*1.05 || first/1000 > 40 || big > first*10.5 {
		t.Errorf("allocations for 1,000 users: first page %.0f, last page %.0f, among 1,000 users %.0f; 10,000 users %.0f", first, last, small, big)
	}

	// Every user is listed once over the 11 pages a client reads at 10,000 a page; 500 of
	// them (one in 20 of every tenth organization) are not backed up.
	sim.GenerateTenants(50, 2000, 0)
	e := &env{t: t, sim: sim, srv: httptest.NewServer(sim)}
	defer e.srv.Close()
	seen, unprotected, pages := map[string]bool{}, 0, 0
	for next := "/v7/LicensedUsers?limit=10000"; next != ""; pages++ {
		var p struct {
			Results []struct {
				ID         string `json:"id"`
				IsBackedUp bool   `json:"isBackedUp"`
			} `json:"results"`
			Links map[string]struct{ Href string } `json:"_links"`
		}
		e.getJSON(next, tok, &p)
		for _, u := range p.Results {
			seen[u.ID] = true
			if !u.IsBackedUp {
				unprotected++
			}
		}
		next = p.Links["next"].Href
	}
	if len(seen) != 100_000 || unprotected != 500 || pages != 10 {
		t.Errorf("%d distinct users in %d pages, %d not backed up", len(seen), pages, unprotected)
	}
}

// The bench's tenants: 50 organizations of 2,000 users, 10,000 restores.
func benchTenants(b *testing.B) (*Simulator, string) {
	sim := New(Options{Username: testUser, Password: testPassword})
	sim.GenerateTenants(50, 2000, 10000)
	return sim, issueTestToken(sim)
}

func BenchmarkServeLicensedUsersPage(b *testing.B) {
	sim, tok := benchTenants(b)
	benchGet(b, sim, tok, "/v8/LicensedUsers?offset=90000&limit=10000")
}

func BenchmarkServeRestoresOfTheLastHour(b *testing.B) {
	sim, tok := benchTenants(b)
	benchGet(b, sim, tok, "/v8/RestoreSessions?startTimeFrom="+sim.opts.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
}

// Lists streamed in chunks while the tenants change; run with -race.
func TestTenantsConcurrentUse(t *testing.T) {
	e := newEnv(t, nil)
	addTestTenants(t, e.sim, e.clock.Now())
	e.sim.GenerateTenants(10, 300, 2000)
	tok := e.login("v7").AccessToken
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			e.sim.GenerateTenants(10-i%3, 300, 2000-i*50)
			_ = e.sim.AddOrganization(Organization{ID: tOrg, Name: "contoso.onmicrosoft.com", ProtectedUsers: 600 + i})
			_ = e.sim.UpdateRestoreSession(tRestoreRun, func(rs *RestoreSession) { rs.Details = "x" })
			e.clock.Advance(time.Minute)
		}
	}()
	for range 10 {
		for _, p := range []string{"/v7/LicensedUsers?limit=5000", "/v7/RestoreSessions?limit=3000", "/v7/Organizations", "/v7/RestoreSessions/" + genRestoreID(1)} {
			if r := e.get(p, tok); r.status != http.StatusOK && r.status != http.StatusNotFound || !json.Valid(r.body) {
				t.Fatalf("%s: %d, valid JSON %v", p, r.status, json.Valid(r.body))
			}
		}
	}
	<-done
}
