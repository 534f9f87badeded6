package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// IDs of the test installation.
const (
	tJob       = "a0000000-0000-4000-8000-000000000001"
	tCopyJob   = "a0000000-0000-4000-8000-000000000002"
	tOffJob    = "a0000000-0000-4000-8000-000000000003"
	tRunning   = "b0000000-0000-4000-8000-000000000001"
	tFailed    = "b0000000-0000-4000-8000-000000000002"
	tGood      = "b0000000-0000-4000-8000-000000000003"
	tCopyDone  = "b0000000-0000-4000-8000-000000000004"
	tRepo      = "c0000000-0000-4000-8000-000000000001"
	tObjRepo   = "c0000000-0000-4000-8000-000000000002"
	tProxy     = "d0000000-0000-4000-8000-000000000001"
	tOffProxy  = "d0000000-0000-4000-8000-000000000002"
	tMaintProx = "d0000000-0000-4000-8000-000000000003"
	tReason    = "Failed to back up mailbox Finance: Mailbox not found. (ErrorNonExistentMailbox)"
)

// addTestInstallation adds one object of every sort the documents describe, and a small
// generated installation after them.
func addTestInstallation(t *testing.T, sim *Simulator, now time.Time) {
	t.Helper()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sim.AddRepository(Repository{ID: tRepo, Name: "Local repo", Path: `E:\Repo`, CapacityBytes: 1 << 40, FreeSpaceBytes: 1 << 36, ProxyID: tProxy}))
	must(sim.AddRepository(Repository{ID: tObjRepo, Name: "Blob repo", ObjectStorageID: "c0000000-0000-4000-8000-0000000000ff", OutOfSync: true, LongTerm: true, Encrypted: true, OutOfOrderReason: "Cache is out of date"}))
	must(sim.AddProxy(Proxy{ID: tProxy, HostName: "proxy1", CPUPercent: 12.5, MemoryPercent: 40}))
	must(sim.AddProxy(Proxy{ID: tOffProxy, HostName: "proxy2", Status: ProxyOffline}))
	must(sim.AddProxy(Proxy{ID: tMaintProx, HostName: "proxy3", Maintenance: MaintenanceEnabled, OS: "Linux"}))
	must(sim.AddJob(Job{ID: tJob, Name: "Contoso Exchange daily", RepositoryID: tRepo, OrganizationID: "e0000000-0000-4000-8000-000000000001", NextRun: now.Add(time.Hour)}))
	must(sim.AddJob(Job{ID: tCopyJob, Name: "Copy to blob", Type: JobTypeCopy, RepositoryID: tObjRepo, Schedule: SchedulePeriodically}))
	must(sim.AddJob(Job{ID: tOffJob, Name: "Old job", Disabled: true, Schedule: ScheduleManualOnly, LastStatus: StatusDisconnected, LastRun: ago(90 * 24 * time.Hour)}))
	must(sim.AddJobSession(JobSession{ID: tFailed, JobID: tJob, CreationTime: ago(26 * time.Hour), EndTime: ago(25 * time.Hour),
		Status: StatusFailed, Details: "Processing finished with errors", RetryCount: 1, ProcessedObjects: 10, TransferredBytes: 1 << 20,
		Log: []LogItem{{Type: LogSuccess, Message: "Job started", CreationTime: ago(26 * time.Hour)}, {Type: LogError, Message: tReason, CreationTime: ago(25 * time.Hour)}}}))
	must(sim.AddJobSession(JobSession{ID: tGood, JobID: tJob, CreationTime: ago(50 * time.Hour), EndTime: ago(49 * time.Hour), Status: StatusWarning, ConfigType: SessionConfigFull}))
	must(sim.AddJobSession(JobSession{ID: tRunning, JobID: tJob, CreationTime: ago(10 * time.Minute), Status: StatusRunning,
		FinishAt: now.Add(10 * time.Minute), FinalStatus: StatusFailed, ObjectsPerSecond: 2, BytesPerSecond: 1 << 20, ProgressPerSecond: 0.1, ProxyID: tProxy,
		Log: []LogItem{{Type: LogSuccess, Message: "Job started", CreationTime: ago(10 * time.Minute)}, {Type: LogError, Message: "Late error", CreationTime: now.Add(10 * time.Minute)}}}))
	must(sim.AddJobSession(JobSession{ID: tCopyDone, JobID: tCopyJob, CreationTime: ago(3 * time.Hour), EndTime: ago(2 * time.Hour), Status: StatusQueued}))
	sim.GenerateInstallation(3, 4, 2)
}

func loadInstallOpenAPI(t *testing.T, ver string) *openAPI {
	t.Helper()
	return loadSubsetOpenAPI(t, ver, "installation")
}

// loadSubsetOpenAPI reads testdata/openapi-VER-SUBSET-schemas.json: a subset's schemas and
// response schemas, copied unchanged from Veeam's documents.
func loadSubsetOpenAPI(t *testing.T, ver, subset string) *openAPI {
	t.Helper()
	b, err := os.ReadFile("testdata/openapi-" + ver + "-" + subset + "-schemas.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

// Every installation answer, in every version and end time style, matches the schema
// Veeam documents for it (required fields, types, enums, formats, no undocumented fields).
func TestInstallationSchemaConformance(t *testing.T) {
	for _, ver := range versions {
		for _, style := range []string{EndTimeNull, EndTimeAbsent, EndTimeZero} {
			t.Run(ver+"/"+style, func(t *testing.T) {
				e := newEnv(t, func(o *Options) { o.EndTimeStyle = style })
				doc := loadInstallOpenAPI(t, ver)
				c := &conformance{env: e, ver: ver, style: style, doc: doc, v: &validator{doc: doc}, checked: map[string]int{}}
				p := "/" + ver
				tok := e.login(ver).AccessToken
				c.check("license", e.get(p+"/License", tok)) // the Community license of a server without one
				addTestInstallation(t, e.sim, e.clock.Now())
				e.sim.LoadDemoData()
				for _, id := range []string{DemoJobFailedID, DemoJobWarningID, DemoJobRunningID, DemoJobStaleID, DemoJobCopyID, DemoJobDisabledID, DemoJobNeverRunID} {
					c.check("job", e.get(p+"/Jobs/"+id, tok))
				}
				for _, id := range []string{DemoJobFailedSession, DemoJobWarningSession, DemoJobRunningSession} {
					c.check("jobSession", e.get(p+"/JobSessions/"+id, tok))
					c.check("jobSessionLogItems", e.get(p+"/JobSessions/"+id+"/LogItems", tok))
				}
				c.check("license", e.get(p+"/License", tok))
				if err := e.sim.SetLicense(License{ID: "f0000000-0000-4000-8000-000000000001", Type: LicenseSubscription, LicensedTo: "Contoso",
					Expires: e.clock.Now().Add(24 * time.Hour), GraceExpires: e.clock.Now().Add(48 * time.Hour), TotalUsers: 100, UsedUsers: 96}); err != nil {
					t.Fatal(err)
				}
				c.check("license", e.get(p+"/License", tok))
				c.check("license", e.get(p+"/License", ""))

				c.checkPages("jobs", p+"/Jobs?limit=2", tok)
				if ver == "v8" {
					c.check("jobs", e.get(p+"/Jobs?repositoryId="+tRepo, tok))
					c.check("jobs", e.get(p+"/Jobs?organizationId=nope", tok))
				}
				for _, id := range []string{tJob, tCopyJob, tOffJob, genJobID(0), "00000000-0000-4000-8000-000000000000", "nope"} {
					c.check("job", e.get(p+"/Jobs/"+id, tok))
				}
				c.checkPages("jobSessions", p+"/JobSessions?limit=5", tok)
				c.check("jobSessions", e.get(p+"/JobSessions?jobType=Copy&endTimeLowerBound=2020-01-01T00:00:00Z", tok))
				c.check("jobSessions", e.get(p+"/JobSessions?limit=0", tok))
				c.check("jobSessions", e.get(p+"/JobSessions?jobType=Restore", tok))
				c.check("jobSessions", e.get(p+"/JobSessions", ""))
				if ver == "v6" {
					c.checkPages("jobSessionsOfJob", p+"/Jobs/"+tJob+"/JobSessions?limit=2", tok)
					c.check("jobSessionsOfJob", e.get(p+"/Jobs/"+genJobID(1)+"/JobSessions", tok))
					c.check("jobSessionsOfJob", e.get(p+"/Jobs/00000000-0000-4000-8000-000000000000/JobSessions", tok))
					c.check("jobSessionsOfJob", e.get(p+"/Jobs/nope/JobSessions", tok))
				} else {
					c.check("jobSessions", e.get(p+"/JobSessions?jobId="+tJob, tok))
					c.check("jobSessions", e.get(p+"/JobSessions?jobId=nope", tok))
				}
				if ver == "v8" {
					c.check("jobSessions", e.get(p+"/JobSessions?status=Succeeded", tok))
					c.check("jobSessions", e.get(p+"/JobSessions?status=Success", tok))
				}
				for _, id := range []string{tRunning, tFailed, tGood, tCopyDone, genSessionID(0, 1), genSessionID(2, 3), "00000000-0000-4000-8000-000000000000", "nope"} {
					c.check("jobSession", e.get(p+"/JobSessions/"+id, tok))
					c.check("jobSessionLogItems", e.get(p+"/JobSessions/"+id+"/LogItems", tok))
				}
				c.check("jobSessionLogItems", e.get(p+"/JobSessions/"+tFailed+"/LogItems?limit=1&orderAsc=false&type=Error", tok))
				c.check("repositories", e.get(p+"/BackupRepositories", tok))
				c.check("repositories", e.get(p+"/BackupRepositories?longTerm=true&proxyId="+tProxy, tok))
				c.check("repositories", e.get(p+"/BackupRepositories?longTerm=maybe", tok))
				for _, id := range []string{tRepo, tObjRepo, genRepoIDs[0], "00000000-0000-4000-8000-000000000000", "nope"} {
					c.check("repository", e.get(p+"/BackupRepositories/"+id, tok))
				}
				c.check("proxies", e.get(p+"/Proxies", tok))
				c.check("proxies", e.get(p+"/Proxies?extendedView=true", tok))
				c.check("proxies", e.get(p+"/Proxies?extendedView=false", tok))
				c.check("proxies", e.get(p+"/Proxies?extendedView=maybe&limit=0", tok))
				for _, id := range []string{tProxy, tOffProxy, tMaintProx, "00000000-0000-4000-8000-000000000000", "nope"} {
					c.check("proxy", e.get(p+"/Proxies/"+id, tok))
				}
				e.clock.Advance(time.Hour) // the running session has ended Failed
				c.check("jobSession", e.get(p+"/JobSessions/"+tRunning, tok))

				if c.notEnded == 0 {
					t.Error("no running session was served, so the endTime style went untested")
				}
				want := []string{"license 401", "jobSessions 400", "jobSessions 401", "repositories 400", "proxies 400"}
				for _, op := range []string{"job", "jobSession", "jobSessionLogItems", "repository", "proxy"} {
					want = append(want, op+" 400", op+" 404")
				}
				if ver == "v6" {
					want = append(want, "jobSessionsOfJob 400", "jobSessionsOfJob 404")
				}
				if ver == "v8" {
					want = append(want, "jobs 400") // v6 and v7 take no parameters to get wrong
				}
				c.requireChecked(want)
			})
		}
	}
}

// requireChecked fails unless every answer in want and a 200 of every documented operation
// was checked.
func (c *conformance) requireChecked(want []string) {
	c.t.Helper()
	for op := range c.doc.Responses {
		want = append(want, op+" 200")
	}
	for _, w := range want {
		if c.checked[w] == 0 {
			c.t.Errorf("no answer %s was checked", w)
		}
	}
}

// checkPages follows a list's next links (v8 pages; v6/v7 arrays come in one answer).
func (c *conformance) checkPages(op, path, tok string) {
	c.t.Helper()
	for pages := 0; path != ""; pages++ {
		if pages > 20 {
			c.t.Fatalf("%s: paging does not end", op)
		}
		r := c.get(path, tok)
		c.check(op, r)
		path = ""
		var page struct {
			Links map[string]struct{ Href string } `json:"_links"`
		}
		if r.status == http.StatusOK && r.body[0] == '{' {
			mustJSON(c.t, r.body, &page)
			path = page.Links["next"].Href
		}
	}
}

// getJSON fetches and decodes an answer that must be 200.
func (e *env) getJSON(path, tok string, v any) {
	e.t.Helper()
	r := e.get(path, tok)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	mustJSON(e.t, r.body, v)
}

type anyPage struct {
	Offset     int              `json:"offset"`
	Limit      int              `json:"limit"`
	Results    []map[string]any `json:"results"`
	TotalCount *int             `json:"totalCount"`
	Links      map[string]struct {
		Href string `json:"href"`
	} `json:"_links"`
}

func keysOf(m map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// The facts the documents state per version: arrays vs pages, jobId only on v8 sessions,
// the license's expiry fields, v6's per-job session list, v8's proxy state.
func TestInstallationFieldsPerVersion(t *testing.T) {
	e := newEnv(t, nil)
	addTestInstallation(t, e.sim, e.clock.Now())
	for _, ver := range versions {
		p, tok := "/"+ver, e.login(ver).AccessToken
		for _, list := range []string{"/Jobs", "/BackupRepositories", "/Proxies"} {
			r := e.get(p+list, tok)
			if isArray := r.body[0] == '['; isArray != (ver != "v8") {
				t.Errorf("%s%s: array %v: %.80s", ver, list, isArray, r.body)
			}
		}
		var sess map[string]any
		e.getJSON(p+"/JobSessions/"+tFailed, tok, &sess)
		if _, has := sess["jobId"]; has != (ver == "v8") {
			t.Errorf("%s: session has jobId = %v", ver, has)
		}
		links := sess["_links"].(map[string]any)
		if links["job"].(map[string]any)["href"] != p+"/Jobs/"+tJob {
			t.Errorf("%s: session links %v", ver, links)
		}
		var lic map[string]any
		e.getJSON(p+"/License", tok, &lic)
		k := keysOf(lic)
		if k["expirationDate"] != (ver == "v6") || k["licenseExpires"] == (ver == "v6") || k["gracePeriodExpires"] == (ver == "v6") {
			t.Errorf("%s: license fields %v", ver, k)
		}
		r := e.get(p+"/Jobs/"+tJob+"/JobSessions", tok)
		if (r.status == http.StatusOK) != (ver == "v6") {
			t.Errorf("%s: Jobs/{id}/JobSessions answered %d", ver, r.status)
		}
		var prox map[string]any
		e.getJSON(p+"/Proxies/"+tMaintProx, tok, &prox)
		if _, has := prox["maintenanceModeState"]; has != (ver == "v8") {
			t.Errorf("%s: proxy %v", ver, prox)
		}
		var off map[string]any
		e.getJSON(p+"/Proxies/"+tOffProxy, tok, &off)
		if off["status"] != ProxyOffline || ver == "v8" && off["cpuUsagePercent"] != nil {
			t.Errorf("%s: offline proxy %v", ver, off)
		}
		var job map[string]any
		e.getJSON(p+"/Jobs/"+tOffJob, tok, &job)
		if job["isEnabled"] != false || job["nextRun"] != nil || job["lastStatus"] != StatusDisconnected {
			t.Errorf("%s: disabled job %v", ver, job)
		}
		// The job follows its newest session: the running one, then how it ended.
		e.getJSON(p+"/Jobs/"+tJob, tok, &job)
		if job["lastStatus"] != StatusRunning || ver != "v6" && !strings.HasPrefix(job["lastBackup"].(string), "2024-05-04T06:08:09.1234567") {
			t.Errorf("%s: job %v", ver, job)
		}
		for _, code := range []int{http.StatusUnauthorized, http.StatusNotFound} {
			tk := tok
			if code == http.StatusUnauthorized {
				tk = ""
			}
			r := e.get(p+"/BackupRepositories/00000000-0000-4000-8000-000000000000", tk)
			if r.status != code {
				t.Errorf("%s: %d, want %d", ver, r.status, code)
			}
			m := decodeMap(t, r.body)
			if _, has := m["errorCode"]; has == (ver == "v6") {
				t.Errorf("%s: error %v", ver, m)
			}
			if _, has := m["stackTrace"]; has != (ver == "v8") {
				t.Errorf("%s: error %v", ver, m)
			}
		}
	}
}

// The job session list comes in the simulator's own order: stable, complete over pages, and
// not newest first (nor oldest first).
func TestJobSessionListOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.GenerateInstallation(2, 50, 0)
	tok := e.login("v8").AccessToken
	collect := func() ([]string, []time.Time) {
		var ids []string
		var times []time.Time
		next := "/v8/JobSessions?jobId=" + genJobID(1) + "&limit=7"
		for next != "" {
			var p anyPage
			e.getJSON(next, tok, &p)
			for _, s := range p.Results {
				ids = append(ids, s["id"].(string))
				ct, err := time.Parse(time.RFC3339Nano, s["creationTime"].(string))
				if err != nil {
					t.Fatal(err)
				}
				times = append(times, ct)
			}
			next = p.Links["next"].Href
		}
		return ids, times
	}
	ids, times := collect()
	again, _ := collect()
	if len(ids) != 50 || fmt.Sprint(ids) != fmt.Sprint(again) {
		t.Fatalf("%d sessions, order stable %v", len(ids), fmt.Sprint(ids) == fmt.Sprint(again))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(seen) != 50 {
		t.Errorf("paging repeated sessions: %d distinct", len(seen))
	}
	newestFirst := sort.SliceIsSorted(times, func(i, j int) bool { return times[i].After(times[j]) })
	oldestFirst := sort.SliceIsSorted(times, func(i, j int) bool { return times[i].Before(times[j]) })
	if newestFirst || oldestFirst || times[0].Equal(maxTime(times)) {
		t.Errorf("list is in time order (newest first %v, oldest first %v, first is newest)", newestFirst, oldestFirst)
	}
}

func maxTime(ts []time.Time) time.Time {
	m := ts[0]
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func TestJobSessionFilters(t *testing.T) {
	e := newEnv(t, nil)
	addTestInstallation(t, e.sim, e.clock.Now())
	count := func(ver, query string) int {
		t.Helper()
		var p anyPage
		e.getJSON("/"+ver+"/JobSessions?limit=1000&"+query, e.login(ver).AccessToken, &p)
		return len(p.Results)
	}
	all := 4 + 3*4
	for _, tc := range []struct {
		ver, query string
		want       int
	}{
		{"v8", "", all},
		{"v8", "jobId=" + tJob, 3},
		{"v7", "jobId=" + strings.ToUpper(tJob), 3},
		{"v6", "jobId=" + tJob, all}, // v6 does not know jobId
		{"v8", "jobId=" + genJobID(2), 4},
		{"v8", "jobType=copy", 1},
		{"v8", "status=Succeeded&jobId=" + tJob, 0},
		{"v8", "status=warning&jobId=" + tJob, 1},
		{"v8", "status=Running", 3}, // the test job's and generated jobs 0 and 2
		{"v7", "status=Running", all},
		// "created after": the running session started 10 minutes ago, the others earlier.
		{"v8", "jobId=" + tJob + "&endTimeLowerBound=" + url.QueryEscape(e.clock.Now().Add(-time.Hour).Format(time.RFC3339)), 1},
		{"v8", "jobId=" + tJob + "&endTimeUpperBound=" + url.QueryEscape(e.clock.Now().Add(-time.Hour).Format(time.RFC3339)), 2},
		{"v6", "endTimeUpperBound=2000-01-01T00:00:00Z", all},
	} {
		if got := count(tc.ver, tc.query); got != tc.want {
			t.Errorf("%s ?%s: %d sessions, want %d", tc.ver, tc.query, got, tc.want)
		}
	}
	for _, q := range []string{"status=Success", "jobType=Restore", "endTimeLowerBound=yesterday", "jobId=42", "limit=10001", "offset=-1"} {
		if r := e.get("/v8/JobSessions?"+q, e.login("v8").AccessToken); r.status != http.StatusBadRequest {
			t.Errorf("?%s: %d", q, r.status)
		}
	}
}

// A running job session advances with the clock, ends as planned, its log grows, and its
// job follows it.
func TestRunningJobSessionAdvances(t *testing.T) {
	e := newEnv(t, nil)
	addTestInstallation(t, e.sim, e.clock.Now())
	tok := e.login("v8").AccessToken
	var s1, s2 map[string]any
	e.getJSON("/v8/JobSessions/"+tRunning, tok, &s1)
	e.clock.Advance(5 * time.Minute)
	e.getJSON("/v8/JobSessions/"+tRunning, tok, &s2)
	st1, st2 := s1["statistics"].(map[string]any), s2["statistics"].(map[string]any)
	if s2["status"] != StatusRunning || st2["processedObjects"].(float64)-st1["processedObjects"].(float64) != 600 ||
		st2["transferredDataBytes"].(float64) != 15*60<<20 || s2["progress"].(float64) != 90 {
		t.Errorf("after 5 minutes: %v -> %v", s1, s2)
	}
	var log anyPage
	e.getJSON("/v8/JobSessions/"+tRunning+"/LogItems", tok, &log)
	if len(log.Results) != 1 {
		t.Errorf("log before the end: %v", log.Results)
	}
	e.clock.Advance(time.Hour)
	tok = e.login("v8").AccessToken
	e.getJSON("/v8/JobSessions/"+tRunning, tok, &s2)
	if s2["status"] != StatusFailed || s2["endTime"] != formatTime(e.clock.Now().Add(-time.Hour+5*time.Minute)) {
		t.Errorf("after the plan: %v", s2)
	}
	e.getJSON("/v8/JobSessions/"+tRunning+"/LogItems?type=Error", tok, &log)
	if len(log.Results) != 1 || log.Results[0]["message"] != "Late error" {
		t.Errorf("log after the end: %v", log.Results)
	}
	var job map[string]any
	e.getJSON("/v8/Jobs/"+tJob, tok, &job)
	if job["lastStatus"] != StatusFailed {
		t.Errorf("job after its session failed: %v", job["lastStatus"])
	}
	// v6/v7 titles carry the type; v6 and v7 serve the log newest first.
	var v6 anyPage
	e.getJSON("/v6/JobSessions/"+tFailed+"/LogItems", e.login("v6").AccessToken, &v6)
	if len(v6.Results) != 2 || v6.Results[0]["title"] != "[Error] "+tReason {
		t.Errorf("v6 log %v", v6.Results)
	}
}

func TestUpdateJobSession(t *testing.T) {
	e := newEnv(t, nil)
	addTestInstallation(t, e.sim, e.clock.Now())
	tok := e.login("v8").AccessToken
	before := e.get("/v8/JobSessions?jobId="+genJobID(1), tok).body
	gen := genSessionID(1, 2)
	err := e.sim.UpdateJobSession(strings.ToUpper(gen), func(js *JobSession) {
		js.Status, js.Details = StatusFailed, "changed"
		js.Log = append(js.Log, LogItem{Type: LogError, Message: "boom", CreationTime: js.CreationTime.Add(time.Second)})
	})
	if err != nil {
		t.Fatal(err)
	}
	var p anyPage
	e.getJSON("/v8/JobSessions?jobId="+genJobID(1), tok, &p)
	if len(p.Results) != 4 || p.Results[2]["id"] != gen || p.Results[2]["status"] != StatusFailed {
		t.Errorf("the updated generated session moved or did not change:\nbefore %s\nafter %v", before, p.Results)
	}
	js, _ := e.sim.JobSession(gen)
	if js.Log[len(js.Log)-1].Message != "boom" || js.Log[len(js.Log)-1].ID == "" {
		t.Errorf("log after update: %+v", js.Log)
	}
	if err := e.sim.UpdateJobSession(tFailed, func(js *JobSession) { js.Status = "Done" }); err == nil {
		t.Error("a bad status was accepted")
	}
	if err := e.sim.UpdateJobSession(tFailed, func(js *JobSession) { js.ID = tGood }); err == nil {
		t.Error("the id changed")
	}
	if err := e.sim.UpdateJobSession("00000000-0000-4000-8000-000000000000", func(*JobSession) {}); err == nil {
		t.Error("an unknown session was updated")
	}
	for name, err := range map[string]error{
		"job id":          e.sim.AddJob(Job{ID: "x"}),
		"job type":        e.sim.AddJob(Job{ID: tJob, Type: "Restore"}),
		"session job":     e.sim.AddJobSession(JobSession{ID: tGood, CreationTime: e.clock.Now(), Status: StatusSuccess}),
		"session status":  e.sim.AddJobSession(JobSession{ID: tGood, JobID: tJob, CreationTime: e.clock.Now(), Status: "Done"}),
		"session created": e.sim.AddJobSession(JobSession{ID: tGood, JobID: tJob, Status: StatusSuccess}),
		"log type":        e.sim.AddJobSession(JobSession{ID: tGood, JobID: tJob, CreationTime: e.clock.Now(), Status: StatusSuccess, Log: []LogItem{{Type: "Info", CreationTime: e.clock.Now()}}}),
		"license type":    e.sim.SetLicense(License{Type: "Forever"}),
		"repository id":   e.sim.AddRepository(Repository{Name: "x"}),
		"proxy status":    e.sim.AddProxy(Proxy{ID: tProxy, Status: "Sleeping"}),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// GenerateInstallation costs no memory per job or session, and every part of a huge one can
// be served.
func TestGenerateInstallationIsLazy(t *testing.T) {
	e := newEnv(t, nil)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	e.sim.GenerateInstallation(1, 1_000_000, 0)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if grew := int64(m1.HeapAlloc) - int64(m0.HeapAlloc); grew > 1<<20 {
		t.Errorf("a job with a million sessions took %d bytes", grew)
	}
	tok := e.login("v7").AccessToken
	var p anyPage
	e.getJSON("/v7/JobSessions?jobId="+genJobID(0)+"&offset=999990&limit=100", tok, &p)
	if len(p.Results) != 10 || *p.TotalCount != 1_000_000 || p.Links["next"].Href != "" {
		t.Errorf("last page: %d results, total %d, links %v", len(p.Results), *p.TotalCount, p.Links)
	}
	last := p.Results[9]["id"].(string)
	// What is new since a time costs what is new, not a walk through the million.
	e.getJSON("/v7/JobSessions?jobId="+genJobID(0)+"&endTimeLowerBound="+url.QueryEscape(e.clock.Now().Add(-3*time.Hour).Format(time.RFC3339)), tok, &p)
	if len(p.Results) != 3 || *p.TotalCount != 3 {
		t.Errorf("created in the last 3 hours: %d", len(p.Results))
	}
	if r := e.get("/v7/JobSessions/"+last, tok); r.status != http.StatusOK {
		t.Errorf("the last session answered %d", r.status)
	}
	var job map[string]any
	e.getJSON("/v7/Jobs/"+genJobID(0), tok, &job)
	if job["lastRun"] != formatTime(e.clock.Now().Add(-45*time.Minute)) || job["lastBackup"] == nil {
		t.Errorf("job %v", job)
	}

	e.sim.GenerateInstallation(100_000, 3, 7)
	e.getJSON("/v8/Jobs?offset=99990&limit=100", e.login("v8").AccessToken, &p)
	if len(p.Results) != 10 || p.Results[9]["id"] != genJobID(99_999) || p.Links["next"].Href != "" {
		t.Errorf("last page of 100,000 jobs: %d, next %q", len(p.Results), p.Links["next"].Href)
	}
	e.sim.GenerateInstallation(21_000, 3, 7)
	var jobs []struct {
		ID         string `json:"id"`
		LastStatus string `json:"lastStatus"`
	}
	e.getJSON("/v6/Jobs", e.login("v6").AccessToken, &jobs)
	if len(jobs) != 21_000 || jobs[20_999].ID != genJobID(20_999) {
		t.Fatalf("%d jobs", len(jobs))
	}
	statuses := map[string]int{}
	for _, j := range jobs {
		statuses[j.LastStatus]++
	}
	// Every 7th job runs; about one in 30 ended Failed, one in 20 Warning.
	if statuses[StatusRunning] != 3000 || statuses[StatusFailed] < 400 || statuses[StatusWarning] < 600 || statuses[StatusSuccess] < 14000 {
		t.Errorf("latest statuses %v", statuses)
	}
	// The sessions of a Failed or Warning job carry the reason in their log.
	tok = e.login("v8").AccessToken
	checked := 0
	for i := 0; checked < 5 && i < 1000; i++ {
		var sp anyPage
		e.getJSON("/v8/JobSessions?status=Failed&jobId="+genJobID(i), tok, &sp)
		for _, s := range sp.Results {
			var log anyPage
			e.getJSON("/v8/JobSessions/"+s["id"].(string)+"/LogItems?type=Error", tok, &log)
			if len(log.Results) != 1 || !strings.Contains(log.Results[0]["message"].(string), ".onmicrosoft.com") && !strings.Contains(log.Results[0]["message"].(string), "sharepoint") {
				t.Errorf("failed session %s log %v", s["id"], log.Results)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("no Failed session among the first 1000 jobs")
	}
}

// The demo installation shows what an admin looks for first: a Failed job with its reason, a
// Warning, a running job, a job without success for days, a copy and a disabled job, a
// license near its user limit, a repository filling up, an offline proxy.
func TestDemoInstallation(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v8").AccessToken
	var jobs anyPage
	e.getJSON("/v8/Jobs", tok, &jobs)
	byID := map[string]map[string]any{}
	for _, j := range jobs.Results {
		byID[j["id"].(string)] = j
	}
	if len(byID) != 7 {
		t.Fatalf("%d demo jobs", len(byID))
	}
	for id, want := range map[string]any{DemoJobFailedID: StatusFailed, DemoJobWarningID: StatusWarning, DemoJobRunningID: StatusRunning,
		DemoJobStaleID: StatusStopped, DemoJobCopyID: StatusSuccess, DemoJobDisabledID: StatusSuccess, DemoJobNeverRunID: nil} {
		if byID[id]["lastStatus"] != want {
			t.Errorf("%s: lastStatus %v, want %v", byID[id]["name"], byID[id]["lastStatus"], want)
		}
	}
	if byID[DemoJobDisabledID]["isEnabled"] != false || byID[DemoJobNeverRunID]["lastRun"] != nil {
		t.Errorf("disabled %v, never run %v", byID[DemoJobDisabledID], byID[DemoJobNeverRunID])
	}
	lastBackup, _ := time.Parse(time.RFC3339Nano, byID[DemoJobStaleID]["lastBackup"].(string))
	if age := e.clock.Now().Sub(lastBackup); age < 3*24*time.Hour || age > 5*24*time.Hour {
		t.Errorf("stale job last succeeded %v ago", age)
	}
	reasons := map[string]string{DemoJobFailedSession: DemoJobFailedReason, DemoJobWarningSession: DemoJobWarningReason}
	for id, reason := range reasons {
		var log anyPage
		e.getJSON("/v8/JobSessions/"+id+"/LogItems?orderAsc=false", tok, &log)
		typ := LogError
		if reason == DemoJobWarningReason {
			typ = LogWarning
		}
		for _, it := range log.Results {
			if it["type"] == typ {
				if it["message"] != reason {
					t.Errorf("%s: last %s is %q", id, typ, it["message"])
				}
				break
			}
		}
	}
	var copies anyPage
	e.getJSON("/v8/JobSessions?jobType=Copy", tok, &copies)
	if len(copies.Results) != 5 || copies.Results[0]["jobId"] != DemoJobCopyID {
		t.Errorf("copy sessions %v", copies.Results)
	}
	// In the simulator's own order, not newest (nor oldest) first.
	var hist anyPage
	e.getJSON("/v8/JobSessions?jobId="+DemoJobFailedID, tok, &hist)
	var created []string
	for _, s := range hist.Results {
		created = append(created, s["creationTime"].(string))
	}
	if len(created) != 7 || sort.StringsAreSorted(created) || sort.SliceIsSorted(created, func(i, j int) bool { return created[i] > created[j] }) {
		t.Errorf("demo job's sessions in time order: %v", created)
	}
	var lic map[string]any
	e.getJSON("/v8/License", tok, &lic)
	if used := lic["usedNumber"].(float64) / lic["totalNumber"].(float64); used < 0.95 || used >= 1 || lic["status"] != LicenseValid {
		t.Errorf("license %v", lic)
	}
	var repos anyPage
	e.getJSON("/v8/BackupRepositories", tok, &repos)
	full, zero := 0, 0
	for _, r := range repos.Results {
		c, f := r["capacityBytes"].(float64), r["freeSpaceBytes"].(float64)
		switch {
		case c == 0 && r["objectStorage"] != nil:
			zero++
		case f/c < 0.1:
			full++
		}
	}
	var proxies anyPage
	e.getJSON("/v8/Proxies", tok, &proxies)
	states := map[string]bool{}
	for _, p := range proxies.Results {
		states[p["status"].(string)+"/"+p["maintenanceModeState"].(string)] = true
	}
	if full != 1 || zero != 1 || !states["Offline/Disabled"] || !states["Online/Enabled"] || !states["Online/Disabled"] {
		t.Errorf("repositories full %d, capacity 0 %d; proxies %v", full, zero, states)
	}
	// The running session advances and ends Success within twenty minutes; the job follows.
	var r1, r2 map[string]any
	e.getJSON("/v8/JobSessions/"+DemoJobRunningSession, tok, &r1)
	e.clock.Advance(20 * time.Minute)
	tok = e.login("v8").AccessToken
	e.getJSON("/v8/JobSessions/"+DemoJobRunningSession, tok, &r2)
	if r1["status"] != StatusRunning || r1["progress"].(float64) != 40 || r2["status"] != StatusSuccess || r2["progress"].(float64) != 100 {
		t.Errorf("running session %v -> %v", r1, r2)
	}
	var job map[string]any
	e.getJSON("/v8/Jobs/"+DemoJobRunningID, tok, &job)
	if job["lastStatus"] != StatusSuccess {
		t.Errorf("running job after its session: %v", job["lastStatus"])
	}
}

// Lists streamed in chunks while the installation changes; run with -race.
func TestInstallationConcurrentUse(t *testing.T) {
	e := newEnv(t, nil)
	addTestInstallation(t, e.sim, e.clock.Now())
	e.sim.GenerateInstallation(1200, 3, 7)
	tok := e.login("v7").AccessToken
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			e.sim.GenerateInstallation(1200-i*50, 3, 7)
			_ = e.sim.UpdateJobSession(tRunning, func(js *JobSession) { js.ProcessedObjects++ })
			_ = e.sim.UpdateJobSession(genSessionID(1, 1), func(js *JobSession) { js.Details = "x" })
			e.clock.Advance(time.Second)
		}
	}()
	for i := 0; i < 10; i++ {
		for _, p := range []string{"/v7/Jobs", "/v7/JobSessions?limit=2000", "/v7/JobSessions/" + tRunning, "/v7/License"} {
			if r := e.get(p, tok); r.status != http.StatusOK || !json.Valid(r.body) {
				t.Fatalf("%s: %d, valid JSON %v", p, r.status, json.Valid(r.body))
			}
		}
	}
	<-done
}

// The time filters on generated sessions, computed from ranks, select what checking every
// session would, a changed session included.
func TestGeneratedTimeFilters(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.GenerateInstallation(2, 50, 0)
	moved := genSessionID(1, 3)
	if err := e.sim.UpdateJobSession(moved, func(js *JobSession) { js.CreationTime = e.clock.Now().Add(-time.Minute) }); err != nil {
		t.Fatal(err)
	}
	tok := e.login("v8").AccessToken
	var all anyPage
	e.getJSON("/v8/JobSessions?limit=100&jobId="+genJobID(1), tok, &all)
	created := map[string]time.Time{}
	for _, s := range all.Results {
		created[s["id"].(string)], _ = time.Parse(time.RFC3339Nano, s["creationTime"].(string))
	}
	now := e.clock.Now()
	bounds := []time.Time{{}, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), now.Add(-time.Hour), now.Add(-90 * time.Minute), now.Add(-20 * time.Hour),
		now.Add(-45*time.Minute - time.Hour), now.Add(-70 * time.Hour), now.Add(time.Hour)}
	for _, after := range bounds {
		for _, before := range bounds {
			q := "/v8/JobSessions?limit=100&jobId=" + genJobID(1)
			if !after.IsZero() {
				q += "&endTimeLowerBound=" + url.QueryEscape(after.Format(time.RFC3339Nano))
			}
			if !before.IsZero() {
				q += "&endTimeUpperBound=" + url.QueryEscape(before.Format(time.RFC3339Nano))
			}
			var p anyPage
			e.getJSON(q, tok, &p)
			var got, want []string
			for _, s := range p.Results {
				got = append(got, s["id"].(string))
			}
			for _, s := range all.Results {
				c := created[s["id"].(string)]
				if (after.IsZero() || c.After(after)) && (before.IsZero() || c.Before(before)) {
					want = append(want, s["id"].(string))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("after %v before %v:\n got %v\nwant %v", after, before, got, want)
			}
		}
	}
}
