package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// IDs of the test organizations and restores.
const (
	tOrg        = "e0000000-0000-4000-8000-000000000001" // Office365, extended fields, object storage
	tOnPrem     = "e0000000-0000-4000-8000-000000000002" // OnPremises, never backed up, no users
	tMSID       = "e0000000-0000-4000-8000-0000000000ff"
	tRestoreRun = "f0000000-0000-4000-8000-000000000001" // running, ends Failed in 10 minutes
	tRestoreBad = "f0000000-0000-4000-8000-000000000002" // Failed an hour ago
	tRestoreOld = "f0000000-0000-4000-8000-000000000003" // Success two days ago
)

// addTestTenants adds one object of every sort the documents describe, and a small generated
// part after them: 3 organizations of 4 users, 20 restores.
func addTestTenants(t *testing.T, sim *Simulator, now time.Time) {
	t.Helper()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	must := func(err error) { t.Helper(); mustOK(t, err) }
	must(sim.AddOrganization(Organization{ID: tOrg, Name: "contoso.onmicrosoft.com", Description: "Contoso", MSID: tMSID, BackedUpOrganizationID: "backed-up-1",
		FirstBackup: ago(400 * 24 * time.Hour), LastBackup: ago(2 * time.Hour), LicensedUsers: 7, NewUsers: 1, ProtectedUsers: 5, UnprotectedUsers: 2,
		Repositories: []UsedRepository{{RepositoryID: tRepo, UsedBytes: 1 << 30},
			{RepositoryID: tObjRepo, ObjectStorage: true, UsedBytes: 1 << 20, ObjectStorageBytes: 5 << 30, ProtectedObjects: 12, Details: "cache"}}}))
	must(sim.AddOrganization(Organization{ID: tOnPrem, Name: "Fabrikam Exchange", Type: OrgOnPremises, Region: "Germany"}))
	must(sim.AddRestoreSession(RestoreSession{ID: tRestoreRun, Name: "Exchange restore", Organization: "contoso.onmicrosoft.com", Type: RestoreExchange,
		CreationTime: ago(5 * time.Minute), InitiatedBy: `CONTOSO\jane`, FinishAt: now.Add(10 * time.Minute), FinalResult: StatusFailed}))
	must(sim.AddRestoreSession(RestoreSession{ID: tRestoreBad, Organization: "contoso.onmicrosoft.com", Type: RestoreSharePoint,
		CreationTime: ago(time.Hour), EndTime: ago(50 * time.Minute), Result: StatusFailed, Details: "Access denied", InitiatedBy: `CONTOSO\admin`}))
	must(sim.AddRestoreSession(RestoreSession{ID: tRestoreOld, Organization: "Fabrikam Exchange", Type: RestoreTeams,
		CreationTime: ago(48 * time.Hour), EndTime: ago(47 * time.Hour), Result: StatusSuccess, ScopeName: "Restore Portal", InitiatedBy: "adele@fabrikam.com"}))
	sim.GenerateTenants(3, 4, 20)
}

// Every organization, licensing, used repository, licensed user and restore answer, in every
// version and unset-time style, matches the schema Veeam documents for it.
func TestTenantsSchemaConformance(t *testing.T) {
	for _, ver := range versions {
		for _, style := range []string{EndTimeNull, EndTimeAbsent, EndTimeZero} {
			t.Run(ver+"/"+style, func(t *testing.T) {
				e := newEnv(t, func(o *Options) { o.EndTimeStyle = style })
				doc := loadSubsetOpenAPI(t, ver, "tenants")
				c := &conformance{env: e, ver: ver, style: style, doc: doc, v: &validator{doc: doc}, checked: map[string]int{}}
				p, tok := "/"+ver, e.login(ver).AccessToken
				c.check("organizations", e.get(p+"/Organizations", tok)) // none yet
				addTestTenants(t, e.sim, e.clock.Now())
				e.sim.LoadDemoData()
				for _, q := range []string{"", "?extendedView=true", "?extendedView=false", "?limit=2&msid=" + tMSID + "&backedUpOrganizationId=x"} {
					c.checkPages("organizations", p+"/Organizations"+q, tok)
				}
				c.check("organizations", e.get(p+"/Organizations?extendedView=maybe", tok))
				c.check("organizations", e.get(p+"/Organizations", ""))
				for _, id := range []string{tOrg, tOnPrem, DemoOrgFabrikamID, DemoOrgTailspinID, genOrgID(2), "00000000-0000-4000-8000-000000000000", "nope"} {
					for _, q := range []string{"", "?extendedView=true", "?extendedView=false"} {
						c.check("organization", e.get(p+"/Organizations/"+id+q, tok))
					}
					c.check("licensingInformation", e.get(p+"/Organizations/"+id+"/LicensingInformation", tok))
					c.checkPages("usedRepositories", p+"/Organizations/"+id+"/usedRepositories?limit=1", tok)
				}
				c.check("usedRepositories", e.get(p+"/Organizations/"+tOrg+"/usedRepositories?limit=0", tok))
				c.checkPages("licensedUsers", p+"/LicensedUsers?limit=200", tok)
				for _, q := range []string{"organizationId=" + tOrg, "name=adele*", "backedUpOrganizationId=backed-up-1", "organizationId=nope", "offset=-1"} {
					c.check("licensedUsers", e.get(p+"/LicensedUsers?"+q, tok))
				}
				c.checkPages("restoreSessions", p+"/RestoreSessions?limit=7", tok)
				since := url.QueryEscape(e.clock.Now().Add(-2 * time.Hour).Format(time.RFC3339))
				for _, q := range []string{"startTimeFrom=" + since, "endTimeFrom=" + since + "&orderBy=EndTime&orderAsc=true", "startTimeTo=yesterday", "orderBy=Name"} {
					c.check("restoreSessions", e.get(p+"/RestoreSessions?"+q, tok))
				}
				for _, id := range []string{tRestoreRun, tRestoreBad, tRestoreOld, DemoRestoreRunningID, genRestoreID(0), genRestoreID(19), "00000000-0000-4000-8000-000000000000", "nope"} {
					c.check("restoreSession", e.get(p+"/RestoreSessions/"+id, tok))
				}
				c.check("restoreSession", e.get(p+"/RestoreSessions/"+tRestoreRun, ""))

				if c.notEnded == 0 {
					t.Error("no user without a backup was served, so the unset-time style went untested")
				}
				want := []string{"organizations 400", "organizations 401", "licensedUsers 400", "restoreSession 401"}
				for _, op := range []string{"organization", "licensingInformation", "usedRepositories", "restoreSession"} {
					want = append(want, op+" 400", op+" 404")
				}
				if ver == "v8" {
					want = append(want, "restoreSessions 400") // v6 and v7 ignore orderBy, but not a bad time
				}
				c.requireChecked(want)
			})
		}
	}
}

// The facts the documents state per version: Organizations an array on v6/v7 and a page on
// v8; the backup fields only with extendedView (v6 by default); usedRepositories naming the
// repository by ID on v8 only, with usedSpaceBytes null on object storage; eTag on v8.
func TestTenantFieldsPerVersion(t *testing.T) {
	e := newEnv(t, nil)
	addTestTenants(t, e.sim, e.clock.Now())
	for _, ver := range versions {
		p, tok := "/"+ver, e.login(ver).AccessToken
		r := e.get(p+"/Organizations", tok)
		if isArray := r.body[0] == '['; isArray != (ver != "v8") {
			t.Errorf("%s Organizations: array %v", ver, isArray)
		}
		for q, want := range map[string]bool{"": ver == "v6", "?extendedView=true": true, "?extendedView=FALSE": false} {
			var o map[string]any
			e.getJSON(p+"/Organizations/"+tOrg+q, tok, &o)
			_, has := o["lastBackuptime"]
			if has != want || has && (o["isBackedup"] != true || o["lastBackuptime"] != formatTime(e.clock.Now().Add(-2*time.Hour))) {
				t.Errorf("%s organization%s: %v", ver, q, o)
			}
			if _, has := o["msid"]; has != (ver == "v8") || o["name"] != "contoso.onmicrosoft.com" || o["officeName"] != "contoso" {
				t.Errorf("%s organization%s: %v", ver, q, o)
			}
		}
		var onPrem map[string]any
		e.getJSON(p+"/Organizations/"+tOnPrem+"?extendedView=true", tok, &onPrem)
		if onPrem["isBackedup"] != false || onPrem["lastBackuptime"] != nil || onPrem["type"] != OrgOnPremises || onPrem["isExchange"] != true {
			t.Errorf("%s on-premises organization %v", ver, onPrem)
		}
		var lic map[string]any
		e.getJSON(p+"/Organizations/"+strings.ToUpper(tOrg)+"/LicensingInformation", tok, &lic)
		if lic["licensedUsers"] != 7.0 || lic["newUsers"] != 1.0 || len(lic) != 2 {
			t.Errorf("%s licensing %v", ver, lic)
		}
		var used anyPage
		e.getJSON(p+"/Organizations/"+tOrg+"/usedRepositories", tok, &used)
		if len(used.Results) != 2 || (used.TotalCount != nil) == (ver == "v8") {
			t.Fatalf("%s used repositories %+v", ver, used)
		}
		local, object := used.Results[0], used.Results[1]
		if _, has := local["repositoryId"]; has != (ver == "v8") || ver == "v8" && local["repositoryId"] != tRepo {
			t.Errorf("%s used repository %v", ver, local)
		}
		if local["_links"].(map[string]any)["backupRepository"].(map[string]any)["href"] != p+"/BackupRepositories/"+tRepo ||
			local["usedSpaceBytes"] != float64(1<<30) || local["objectStorageUsedSpaceBytes"] != nil {
			t.Errorf("%s used repository %v", ver, local)
		}
		if object["usedSpaceBytes"] != nil || object["objectStorageUsedSpaceBytes"] != float64(5<<30) || object["localCacheUsedSpaceBytes"] != float64(1<<20) {
			t.Errorf("%s object storage used repository %v", ver, object)
		}
		var rs map[string]any
		e.getJSON(p+"/RestoreSessions/"+tRestoreRun, tok, &rs)
		if _, has := rs["eTag"]; has != (ver == "v8") || rs["state"] != RestoreWorking || rs["result"] != StatusSuccess || rs["endTime"] != nil ||
			rs["organization"] != "contoso.onmicrosoft.com" || rs["type"] != RestoreExchange || rs["initiatedBy"] != `CONTOSO\jane` {
			t.Errorf("%s running restore %v", ver, rs)
		}
		for _, path := range []string{"/LicensedUsers", "/RestoreSessions", "/Organizations/" + tOrg + "/usedRepositories"} {
			if r := e.get(p+path, tok); r.body[0] != '{' {
				t.Errorf("%s%s is not a page", ver, path)
			}
		}
	}
}

// restoreIDs lists a RestoreSessions query through its pages: ids, creation and end times.
func restoreIDs(t *testing.T, e *env, tok, path string) (ids []string, created, ended []time.Time) {
	t.Helper()
	for next := path; next != ""; {
		var p anyPage
		e.getJSON(next, tok, &p)
		for _, s := range p.Results {
			ids = append(ids, s["id"].(string))
			c, _ := time.Parse(time.RFC3339Nano, s["creationTime"].(string))
			var end time.Time
			if v, ok := s["endTime"].(string); ok {
				end, _ = time.Parse(time.RFC3339Nano, v)
			}
			created, ended = append(created, c), append(ended, end)
		}
		next = p.Links["next"].Href
	}
	return ids, created, ended
}

func sortedTimes(ts []time.Time, asc bool) bool {
	return sort.SliceIsSorted(ts, func(i, j int) bool {
		if asc {
			return ts[i].Before(ts[j])
		}
		return ts[i].After(ts[j])
	})
}

// v6 and v7 answer oldest first, v8 newest first unless orderAsc; v8 orders by end time on
// request. Explicit and generated sessions interleave by time.
func TestRestoreSessionOrder(t *testing.T) {
	e := newEnv(t, nil)
	addTestTenants(t, e.sim, e.clock.Now())
	all := 3 + 20
	for _, tc := range []struct {
		ver, query string
		asc, byEnd bool
	}{
		{"v6", "", true, false},
		{"v7", "?orderAsc=false&orderBy=EndTime", true, false}, // v7 knows neither
		{"v8", "", false, false},
		{"v8", "?orderAsc=true", true, false},
		{"v8", "?orderBy=endtime", false, true},
		{"v8", "?orderBy=EndTime&orderAsc=True", true, true},
	} {
		ids, created, ended := restoreIDs(t, e, e.login(tc.ver).AccessToken, "/"+tc.ver+"/RestoreSessions?limit=4&"+strings.TrimPrefix(tc.query, "?"))
		key := created
		if tc.byEnd {
			key = ended
		}
		seen := map[string]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		if len(ids) != all || len(seen) != all || !sortedTimes(key, tc.asc) || sortedTimes(key, !tc.asc) {
			t.Errorf("%s%s: %d sessions (%d distinct), in order %v: %v", tc.ver, tc.query, len(ids), len(seen), sortedTimes(key, tc.asc), key)
		}
		if !tc.byEnd && ids[map[bool]int{true: all - 1, false: 0}[tc.asc]] != tRestoreRun {
			t.Errorf("%s%s: the newest is not the last started", tc.ver, tc.query)
		}
	}
}

// The time filters select, inclusively, what checking every session would; v6 and v7 do not
// know the end filters and ignore them.
func TestRestoreSessionFilters(t *testing.T) {
	e := newEnv(t, nil)
	addTestTenants(t, e.sim, e.clock.Now())
	if err := e.sim.UpdateRestoreSession(genRestoreID(3), func(rs *RestoreSession) { rs.CreationTime = e.clock.Now().Add(-time.Second) }); err != nil {
		t.Fatal(err)
	}
	tok := e.login("v8").AccessToken
	ids, created, ended := restoreIDs(t, e, tok, "/v8/RestoreSessions?limit=100")
	now := e.clock.Now()
	bounds := []time.Time{{}, created[5], ended[5], now.Add(-time.Hour), now.Add(-30 * time.Minute), now.Add(-3 * time.Minute), now.Add(time.Hour)}
	q := func(name string, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return "&" + name + "=" + url.QueryEscape(t.Format(time.RFC3339Nano))
	}
	in := func(t, from, to time.Time) bool {
		return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
	}
	for _, from := range bounds {
		for _, to := range bounds {
			for _, byEnd := range []bool{false, true} {
				var want []string
				for i, id := range ids {
					// Without end bounds running sessions stay; with them they cannot match.
					unbounded := from.IsZero() && to.IsZero()
					if !byEnd && in(created[i], from, to) || byEnd && (unbounded || !ended[i].IsZero() && in(ended[i], from, to)) {
						want = append(want, id)
					}
				}
				names := [2]string{"startTimeFrom", "startTimeTo"}
				if byEnd {
					names = [2]string{"endTimeFrom", "endTimeTo"}
				}
				got, _, _ := restoreIDs(t, e, tok, "/v8/RestoreSessions?limit=100"+q(names[0], from)+q(names[1], to))
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s %v %s %v:\n got %v\nwant %v", names[0], from, names[1], to, got, want)
				}
			}
		}
	}
	// The start filters in every version; v6/v7 ignore the end ones.
	since := q("startTimeFrom", now.Add(-time.Hour))
	for _, ver := range []string{"v6", "v7"} {
		tk := e.login(ver).AccessToken
		if got, _, _ := restoreIDs(t, e, tk, "/"+ver+"/RestoreSessions?limit=100"+since); len(got) != 1+1+10+1 {
			t.Errorf("%s started in the last hour: %v", ver, got)
		}
		if got, _, _ := restoreIDs(t, e, tk, "/"+ver+"/RestoreSessions?"+q("endTimeFrom", now)); len(got) != 23 {
			t.Errorf("%s with endTimeFrom: %d", ver, len(got))
		}
	}
	for _, bad := range []string{"startTimeFrom=yesterday", "endTimeTo=soon", "orderBy=Name", "orderAsc=maybe", "limit=10001"} {
		if r := e.get("/v8/RestoreSessions?"+bad, tok); r.status != http.StatusBadRequest {
			t.Errorf("?%s: %d", bad, r.status)
		}
	}
	if r := e.get("/v6/RestoreSessions?startTimeTo=yesterday", e.login("v6").AccessToken); r.status != http.StatusBadRequest {
		t.Errorf("v6 bad startTimeTo: %d", r.status)
	}
}

// A running restore ends as planned (Stopped, its final result, an end time); generated
// ones too; UpdateRestoreSession changes explicit and generated sessions and checks values.
func TestRestoreSessionLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	addTestTenants(t, e.sim, e.clock.Now())
	running := genRestoreID(19)
	tok := e.login("v8").AccessToken
	var rs map[string]any
	e.getJSON("/v8/RestoreSessions/"+running, tok, &rs)
	if rs["state"] != RestoreWorking || rs["endTime"] != nil || rs["eTag"] != 1.0 {
		t.Errorf("newest generated restore %v", rs)
	}
	e.clock.Advance(15 * time.Minute)
	tok = e.login("v8").AccessToken
	e.getJSON("/v8/RestoreSessions/"+tRestoreRun, tok, &rs)
	if rs["state"] != RestoreStopped || rs["result"] != StatusFailed || rs["endTime"] != formatTime(e.clock.Now().Add(-5*time.Minute)) || rs["eTag"] != 2.0 {
		t.Errorf("ended restore %v", rs)
	}
	e.getJSON("/v8/RestoreSessions/"+running, tok, &rs)
	if rs["state"] != RestoreStopped || rs["endTime"] == nil {
		t.Errorf("generated restore after its plan %v", rs)
	}
	if err := e.sim.UpdateRestoreSession(strings.ToUpper(genRestoreID(2)), func(rs *RestoreSession) { rs.Result, rs.Reason = StatusFailed, "changed" }); err != nil {
		t.Fatal(err)
	}
	if got, ok := e.sim.RestoreSession(genRestoreID(2)); !ok || got.Result != StatusFailed || got.Reason != "changed" {
		t.Errorf("updated generated restore %+v", got)
	}
	var p anyPage
	e.getJSON("/v8/RestoreSessions?limit=100", tok, &p)
	if len(p.Results) != 23 {
		t.Errorf("after an update: %d restores", len(p.Results))
	}
	for name, err := range map[string]error{
		"unknown":      e.sim.UpdateRestoreSession("00000000-0000-4000-8000-000000000000", func(*RestoreSession) {}),
		"id changes":   e.sim.UpdateRestoreSession(tRestoreBad, func(rs *RestoreSession) { rs.ID = tRestoreOld }),
		"bad result":   e.sim.UpdateRestoreSession(tRestoreBad, func(rs *RestoreSession) { rs.Result = "Done" }),
		"bad type":     e.sim.AddRestoreSession(RestoreSession{ID: tRestoreBad, Type: "Exchange", CreationTime: e.clock.Now()}),
		"no created":   e.sim.AddRestoreSession(RestoreSession{ID: tRestoreBad, Type: RestoreExchange}),
		"bad state":    e.sim.AddRestoreSession(RestoreSession{ID: tRestoreBad, Type: RestoreExchange, CreationTime: e.clock.Now(), State: "Done"}),
		"org id":       e.sim.AddOrganization(Organization{ID: "x"}),
		"org type":     e.sim.AddOrganization(Organization{ID: tOrg, Type: "Cloud"}),
		"org users":    e.sim.AddOrganization(Organization{ID: tOrg, UnprotectedUsers: -1}),
		"org repo id":  e.sim.AddOrganization(Organization{ID: tOrg, Repositories: []UsedRepository{{RepositoryID: "x"}}}),
		"org msid":     e.sim.AddOrganization(Organization{ID: tOrg, MSID: "x"}),
		"org region":   e.sim.AddOrganization(Organization{ID: tOrg, Region: "Mars"}),
		"restore uuid": e.sim.AddRestoreSession(RestoreSession{ID: "x", Type: RestoreExchange, CreationTime: e.clock.Now()}),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLicensedUsersFilters(t *testing.T) {
	e := newEnv(t, nil)
	addTestTenants(t, e.sim, e.clock.Now())
	count := func(ver, query string) (total, backedUp int) {
		t.Helper()
		var p anyPage
		e.getJSON("/"+ver+"/LicensedUsers?limit=1000&"+query, e.login(ver).AccessToken, &p)
		for _, u := range p.Results {
			if u["isBackedUp"] == true {
				backedUp++
			}
		}
		return len(p.Results), backedUp
	}
	all := 7 + 3*4
	for _, tc := range []struct {
		ver, query      string
		total, backedUp int
	}{
		{"v8", "", all, all - 2},
		{"v6", "organizationId=" + strings.ToUpper(tOrg), 7, 5},
		{"v7", "organizationId=" + tOnPrem, 0, 0},
		{"v8", "organizationId=" + genOrgID(1), 4, 4},
		{"v8", "backedUpOrganizationId=BACKED-UP-1", 7, 5},
		{"v7", "backedUpOrganizationId=backed-up-1", all, all - 2}, // v7 does not know it
		{"v8", "name=adele.vance@contoso.onmicrosoft.com", 2, 2},   // tOrg's and the first generated one's
		{"v8", "name=adele.vance@contoso.onmicrosoft.com&organizationId=" + tOrg, 1, 1},
		{"v8", "name=ADELE*", 4, 4},
		{"v6", "name=*@contoso.onmicrosoft.com", 7 + 4, 5 + 4}, // tOrg and the first generated one
		{"v8", "name=user0000?@contoso.onmicrosoft.com", 0, 0},
		{"v8", "name=?ee.gu@contoso*&organizationId=" + tOrg, 1, 1},
		{"v8", "name=adele", 0, 0},
	} {
		if total, backedUp := count(tc.ver, tc.query); total != tc.total || backedUp != tc.backedUp {
			t.Errorf("%s ?%s: %d users, %d backed up; want %d, %d", tc.ver, tc.query, total, backedUp, tc.total, tc.backedUp)
		}
	}
	var p anyPage
	e.getJSON("/v8/LicensedUsers?organizationId="+tOrg, e.login("v8").AccessToken, &p)
	states := map[string]int{}
	for _, u := range p.Results {
		states[u["licenseState"].(string)]++
		if u["organizationId"] != tOrg || u["organizationName"] != "contoso.onmicrosoft.com" || u["backedUpOrganizationId"] != "backed-up-1" {
			t.Errorf("user %v", u)
		}
	}
	if states["New"] != 1 || states["Licensed"] != 6 || p.Results[6]["isBackedUp"] != false {
		t.Errorf("license states %v, last user %v", states, p.Results[6])
	}
	for _, q := range []string{"organizationId=42", "limit=0", "offset=x"} {
		if r := e.get("/v8/LicensedUsers?"+q, e.login("v8").AccessToken); r.status != http.StatusBadRequest {
			t.Errorf("?%s: %d", q, r.status)
		}
	}
}

// The demo has a few tenants, one with users that are not backed up and one never backed up,
// and restores of each result and one running, by different operators.
func TestDemoTenants(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v8").AccessToken
	var orgs anyPage
	e.getJSON("/v8/Organizations?extendedView=true", tok, &orgs)
	if len(orgs.Results) != 4 {
		t.Fatalf("%d demo organizations", len(orgs.Results))
	}
	var jobs anyPage
	e.getJSON("/v8/Jobs", tok, &jobs)
	ids := map[string]bool{}
	for _, o := range orgs.Results {
		ids[o["id"].(string)] = true
	}
	for _, j := range jobs.Results {
		if !ids[j["organizationId"].(string)] {
			t.Errorf("demo job %s names organization %s, not a demo one", j["name"], j["organizationId"])
		}
	}
	unprotected, never := 0, 0
	licensed := 0.0
	for _, o := range orgs.Results {
		var users anyPage
		e.getJSON("/v8/LicensedUsers?limit=1000&organizationId="+o["id"].(string), tok, &users)
		for _, u := range users.Results {
			if u["isBackedUp"] == false {
				unprotected++
			}
		}
		var lic map[string]any
		e.getJSON("/v8/Organizations/"+o["id"].(string)+"/LicensingInformation", tok, &lic)
		licensed += lic["licensedUsers"].(float64)
		if o["isBackedup"] == false {
			never++
		}
	}
	var license map[string]any
	e.getJSON("/v8/License", tok, &license)
	if unprotected != 9 || never != 1 || licensed != license["usedNumber"] {
		t.Errorf("unprotected users %d, organizations never backed up %d, licensed %v of the license's %v", unprotected, never, licensed, license["usedNumber"])
	}
	var used anyPage
	e.getJSON("/v8/Organizations/"+DemoOrgContosoID+"/usedRepositories", tok, &used)
	if len(used.Results) != 2 || used.Results[1]["usedSpaceBytes"] != nil {
		t.Errorf("Contoso's repositories %v", used.Results)
	}
	var restores anyPage
	e.getJSON("/v8/RestoreSessions", tok, &restores)
	results, operators := map[string]int{}, map[string]bool{}
	for _, rs := range restores.Results {
		results[rs["state"].(string)+"/"+rs["result"].(string)]++
		operators[rs["initiatedBy"].(string)] = true
	}
	if results["Stopped/Success"] != 2 || results["Stopped/Warning"] != 1 || results["Stopped/Failed"] != 1 || results["Working/Success"] != 1 || len(operators) != 5 {
		t.Errorf("restores %v by %v", results, operators)
	}
	if restores.Results[0]["id"] != DemoRestoreRunningID {
		t.Errorf("v8 does not list the newest first: %v", restores.Results[0])
	}
	e.clock.Advance(7 * time.Minute)
	if rs, _ := e.sim.RestoreSession(DemoRestoreRunningID); rs.state() != RestoreStopped || rs.Result != StatusSuccess {
		t.Errorf("the running demo restore after 7 minutes: %+v", rs)
	}
}

// The admin API adds organizations and restores for end-to-end tests and demos: a restore
// that runs, then fails.
func TestAdminTenants(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Admin = true })
	tok := e.login("v8").AccessToken
	call := e.admin
	org := call(http.MethodPost, "/admin/organizations", `{"name":"e2e.onmicrosoft.com","lastBackuptime":"2024-05-06T04:00:00Z","licensedUsers":3,
		"protectedUsers":2,"unprotectedUsers":1,"usedRepositories":[{"repositoryId":"`+tRepo+`","usedSpaceBytes":42}]}`, http.StatusCreated)["id"].(string)
	var users anyPage
	e.getJSON("/v8/LicensedUsers?organizationId="+org, tok, &users)
	var used anyPage
	e.getJSON("/v8/Organizations/"+org+"/usedRepositories", tok, &used)
	if len(users.Results) != 3 || users.Results[2]["isBackedUp"] != false || len(used.Results) != 1 || used.Results[0]["usedSpaceBytes"] != 42.0 {
		t.Errorf("admin organization: users %v, repositories %v", users.Results, used.Results)
	}
	id := call(http.MethodPost, "/admin/restoresessions", `{"organization":"e2e.onmicrosoft.com","type":"Vesp","initiatedBy":"E2E\\operator"}`, http.StatusCreated)["id"].(string)
	if rs := decodeMap(t, e.get("/v8/RestoreSessions/"+id, tok).body); rs["state"] != RestoreWorking || rs["creationTime"] != formatTime(e.clock.Now()) {
		t.Errorf("added restore %v", rs)
	}
	call(http.MethodPatch, "/admin/restoresessions/"+id, `{"endTime":"2024-05-06T07:10:00+02:00","result":"Failed","details":"Access denied"}`, http.StatusNoContent)
	if rs := decodeMap(t, e.get("/v8/RestoreSessions/"+id, tok).body); rs["state"] != RestoreStopped || rs["result"] != StatusFailed || rs["details"] != "Access denied" {
		t.Errorf("patched restore %v", rs)
	}
	call(http.MethodPatch, "/admin/restoresessions/"+id, `{"result":"Done"}`, http.StatusBadRequest)
	call(http.MethodPatch, "/admin/restoresessions/"+id, `{"endTime":"soon"}`, http.StatusBadRequest)
	call(http.MethodPatch, "/admin/restoresessions/00000000-0000-4000-8000-000000000000", `{}`, http.StatusNotFound)
	call(http.MethodPost, "/admin/restoresessions", `{"type":"Exchange"}`, http.StatusBadRequest)
	call(http.MethodPost, "/admin/organizations", `{"id":"x"}`, http.StatusBadRequest)
	call(http.MethodPost, "/admin/organizations", `{"bogus":1}`, http.StatusBadRequest)
}
