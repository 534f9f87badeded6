package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func installFaultEnv(t *testing.T, faults ...Fault) (*env, string) {
	t.Helper()
	return setupFaultEnv(t, addTestInstallation, faults...)
}

// checkFaultPerEndpoint sets a 403 on each endpoint of paths in turn: only its path answers it.
func checkFaultPerEndpoint(t *testing.T, add func(*testing.T, *Simulator, time.Time), paths map[string]string) {
	t.Helper()
	for ep := range paths {
		e, tok := setupFaultEnv(t, add, Fault{Endpoint: ep, Kind: FaultStatus, Status: http.StatusForbidden})
		for other, p := range paths {
			r := e.get(p, tok)
			if want := map[bool]int{true: http.StatusForbidden, false: http.StatusOK}[other == ep]; r.status != want {
				t.Errorf("fault on %s: %s answered %d, want %d", ep, p, r.status, want)
			}
			if r.status == http.StatusForbidden && decodeMap(t, r.body)["errorCode"] != codeHTTP {
				t.Errorf("fault on %s: body %s", ep, r.body)
			}
		}
	}
}

// setupFaultEnv is an env with what add adds and the faults set, and a v8 token.
func setupFaultEnv(t *testing.T, add func(*testing.T, *Simulator, time.Time), faults ...Fault) (*env, string) {
	t.Helper()
	e := newEnv(t, nil)
	add(t, e.sim, e.clock.Now())
	for _, f := range faults {
		if err := e.sim.SetFault(f); err != nil {
			t.Fatal(err)
		}
	}
	return e, e.login("v8").AccessToken
}

// The existing fault kinds reach each installation endpoint, alone or narrowed to a job or
// a session.
func TestInstallationFaultsByEndpoint(t *testing.T) {
	paths := map[string]string{
		EndpointJobs:               "/v8/Jobs",
		EndpointJobSessions:        "/v8/JobSessions?jobId=" + tJob,
		EndpointJobSession:         "/v8/JobSessions/" + tFailed,
		EndpointJobSessionLogItems: "/v8/JobSessions/" + tFailed + "/LogItems",
		EndpointLicense:            "/v8/License",
		EndpointRepositories:       "/v8/BackupRepositories",
		EndpointProxies:            "/v8/Proxies/" + tProxy,
	}
	checkFaultPerEndpoint(t, addTestInstallation, paths)
	// Narrowed to one job: its session list in every version's form, and the job itself.
	e, _ := installFaultEnv(t, Fault{Endpoint: EndpointAny, JobID: strings.ToUpper(tJob), Kind: FaultStatus, Status: http.StatusServiceUnavailable})
	for _, ver := range versions {
		tok := e.login(ver).AccessToken
		hit := []string{"/" + ver + "/Jobs/" + tJob}
		miss := []string{"/" + ver + "/Jobs/" + tCopyJob, "/" + ver + "/JobSessions/" + tFailed, "/" + ver + "/Jobs"}
		if ver == "v6" {
			hit = append(hit, "/v6/Jobs/"+tJob+"/JobSessions")
			miss = append(miss, "/v6/JobSessions?jobId="+tJob) // v6 knows no jobId: not about the job
		} else {
			hit = append(hit, "/"+ver+"/JobSessions?jobId="+tJob)
			miss = append(miss, "/"+ver+"/JobSessions?jobId="+tCopyJob)
		}
		for _, p := range hit {
			if r := e.get(p, tok); r.status != http.StatusServiceUnavailable {
				t.Errorf("%s: %d, want the job's fault", p, r.status)
			}
		}
		for _, p := range miss {
			if r := e.get(p, tok); r.status != http.StatusOK {
				t.Errorf("%s: %d, want no fault", p, r.status)
			}
		}
	}
	// Narrowed to one session: its GET and its log, nothing else.
	e, tok := installFaultEnv(t, Fault{Endpoint: EndpointAny, SessionID: tFailed, Kind: FaultEcho})
	r := e.get("/v8/JobSessions/"+tFailed+"/LogItems", tok)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Bearer "+tok) {
		t.Errorf("echo on the session's log: %d %s", r.status, r.body)
	}
	if r := e.get("/v8/JobSessions/"+tGood+"/LogItems", tok); r.status != http.StatusOK {
		t.Errorf("another session's log: %d", r.status)
	}
	// A stalled proxy list holds the client until its deadline.
	e, tok = installFaultEnv(t, Fault{Endpoint: EndpointProxies, Kind: FaultStall})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := e.rawGet(ctx, "/v7/Proxies", tok); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stalled proxies: %v", err)
	}
}

func TestInstallationListFaults(t *testing.T) {
	e, tok := installFaultEnv(t, Fault{Endpoint: EndpointJobSessions, Kind: FaultPageCap, Entries: 2})
	p := decodeTestPage(t, e.get("/v8/JobSessions?limit=5", tok))
	if len(p.Results) != 2 || p.Limit != 5 || !strings.Contains(p.Links["next"].Href, "offset=2") {
		t.Errorf("capped job sessions: %d results, limit %d, next %q", len(p.Results), p.Limit, p.Links["next"].Href)
	}
	if p := decodeTestPage(t, e.get("/v8/Jobs?limit=5", tok)); len(p.Results) != 5 {
		t.Errorf("the cap reached the jobs: %d", len(p.Results))
	}

	e, tok = installFaultEnv(t, Fault{Endpoint: EndpointAny, Kind: FaultPageCap, Entries: 1})
	for _, path := range []string{"/v8/Jobs?limit=3", "/v8/BackupRepositories?limit=3", "/v8/Proxies?limit=3"} {
		if p := decodeTestPage(t, e.get(path, tok)); len(p.Results) != 1 || p.Limit != 3 || p.Links["next"].Href == "" {
			t.Errorf("%s capped: %d results, limit %d", path, len(p.Results), p.Limit)
		}
	}
	var arr []json.RawMessage
	mustJSON(t, e.get("/v7/Jobs", e.login("v7").AccessToken).body, &arr)
	if len(arr) != 6 {
		t.Errorf("v7 jobs (an array) under a page cap: %d", len(arr))
	}

	e, _ = installFaultEnv(t, Fault{Endpoint: EndpointJobSessions, Kind: FaultEndless, Entries: 4, Bytes: 300})
	tok7 := e.login("v7").AccessToken
	for _, q := range []string{"offset=0&limit=10", "offset=4&limit=10&jobId=" + tJob} {
		p := decodeTestPage(t, e.get("/v7/JobSessions?"+q, tok7))
		if len(p.Results) != 4 || p.TotalCount == nil || *p.TotalCount <= p.Offset+4 || p.Links["next"].Href == "" {
			t.Errorf("endless %s: %d results, total %v", q, len(p.Results), p.TotalCount)
		}
		var s map[string]any
		mustJSON(t, p.Results[0], &s)
		if len(s["details"].(string)) != 300 {
			t.Errorf("endless details %d bytes", len(s["details"].(string)))
		}
	}
	if p := decodeTestPage(t, e.get("/v6/Jobs/"+tJob+"/JobSessions?limit=2", e.login("v6").AccessToken)); len(p.Results) != 2 ||
		!strings.HasPrefix(p.Links["next"].Href, "/v6/Jobs/"+tJob+"/JobSessions?") {
		t.Errorf("endless v6 job sessions: %d, next %q", len(p.Results), p.Links["next"].Href)
	}

	e, tok = installFaultEnv(t, Fault{Endpoint: EndpointAny, Kind: FaultHugeList, Entries: 2500})
	for _, path := range []string{"/Jobs", "/BackupRepositories", "/Proxies"} {
		var all []map[string]any
		mustJSON(t, e.get("/v6"+path, e.login("v6").AccessToken).body, &all)
		if len(all) != 2500 || all[2499]["id"] != "dddddddd-0000-4000-8000-000000002499" {
			t.Errorf("v6%s: %d entries", path, len(all))
		}
		p := decodeTestPage(t, e.get("/v8"+path+"?offset=2000&limit=1000", tok))
		if len(p.Results) != 500 || p.Links["next"].Href != "" {
			t.Errorf("v8%s last page: %d entries, next %q", path, len(p.Results), p.Links["next"].Href)
		}
	}
	if r := e.get("/v8/Jobs/"+tJob, tok); r.status != http.StatusOK || !strings.Contains(string(r.body), "Contoso Exchange daily") {
		t.Errorf("one job under a huge list: %d", r.status)
	}

	e, tok = installFaultEnv(t, Fault{Endpoint: EndpointAny, Kind: FaultLongEnum, Bytes: 64})
	for _, path := range []string{"/v8/Jobs/" + tJob, "/v8/JobSessions/" + tFailed, "/v8/Proxies/" + tMaintProx} {
		m := decodeMap(t, e.get(path, tok).body)
		for _, k := range []string{"lastStatus", "status", "jobType", "maintenanceModeState"} {
			if v, ok := m[k].(string); ok && (len(v) != 64 || !strings.HasPrefix(v, "Unknown")) {
				t.Errorf("%s: %s = %q", path, k, v)
			}
		}
	}
}

func TestInstallationStats(t *testing.T) {
	e := newEnv(t, nil)
	addTestInstallation(t, e.sim, e.clock.Now())
	tok6, tok8 := e.login("v6").AccessToken, e.login("v8").AccessToken
	e.sim.ResetStats()
	e.get("/v8/Jobs", tok8)
	e.get("/v8/Jobs/"+tJob, tok8)
	e.get("/v8/JobSessions?jobId="+strings.ToUpper(tJob), tok8)
	e.get("/v6/Jobs/"+tJob+"/JobSessions", tok6)
	e.get("/v6/JobSessions?jobId="+tJob, tok6) // v6 ignores jobId: not about one job
	e.get("/v8/JobSessions/"+tFailed, tok8)
	e.get("/v8/JobSessions/"+tFailed+"/LogItems", tok8)
	e.get("/v8/License", tok8)
	e.get("/v8/BackupRepositories/"+tRepo, tok8)
	e.get("/v8/Proxies", "")
	st := e.sim.Stats()
	want := map[string]int64{EndpointJobs: 2, EndpointJobSessions: 3, EndpointJobSession: 1, EndpointJobSessionLogItems: 1,
		EndpointLicense: 1, EndpointRepositories: 1, EndpointProxies: 1}
	if !reflect.DeepEqual(st.ByEndpoint, want) || st.ByStatus[401] != 1 {
		t.Errorf("by endpoint %v (want %v), by status %v", st.ByEndpoint, want, st.ByStatus)
	}
	if !reflect.DeepEqual(st.ByJob, map[string]int64{tJob: 2}) || st.BySession[tFailed] != 1 {
		t.Errorf("by job %v, by session %v", st.ByJob, st.BySession)
	}
}

// The admin API drives the installation for end-to-end tests and demos: a job, a session
// that fails with a reason and is then followed by a good one, the license, a repository, a
// proxy, and faults narrowed to a job.
func TestAdminInstallation(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Admin = true })
	tok := e.login("v8").AccessToken
	post := e.admin
	job := post(http.MethodPost, "/admin/jobs", `{"name":"E2E job","repositoryId":"`+tRepo+`","nextRun":"2024-05-07T22:00:00Z"}`, http.StatusCreated)["id"].(string)
	sess := post(http.MethodPost, "/admin/jobsessions", `{"jobId":"`+job+`","finishAt":"2024-05-06T07:18:09.1234567+02:00","finalStatus":"Failed",
		"log":[{"type":"Error","message":"it broke","creationTime":"2024-05-06T07:09:00+02:00"}]}`, http.StatusCreated)["id"].(string)
	m := decodeMap(t, e.get("/v8/JobSessions/"+sess, tok).body)
	if m["status"] != StatusRunning || m["jobId"] != job || m["repositoryId"] != tRepo {
		t.Errorf("added session %v", m)
	}
	e.clock.Advance(10 * time.Minute)
	if m := decodeMap(t, e.get("/v8/Jobs/"+job, tok).body); m["lastStatus"] != StatusFailed || m["name"] != "E2E job" {
		t.Errorf("job after its session failed: %v", m)
	}
	var log anyPage
	e.getJSON("/v8/JobSessions/"+sess+"/LogItems", tok, &log)
	if len(log.Results) != 1 || log.Results[0]["message"] != "it broke" {
		t.Errorf("log %v", log.Results)
	}
	post(http.MethodPatch, "/admin/jobsessions/"+sess, `{"details":"patched","status":"Warning"}`, http.StatusNoContent)
	if m := decodeMap(t, e.get("/v8/JobSessions/"+sess, tok).body); m["details"] != "patched" || m["status"] != StatusWarning {
		t.Errorf("patched session %v", m)
	}
	post(http.MethodPatch, "/admin/jobsessions/"+sess, `{"status":"Done"}`, http.StatusBadRequest)
	post(http.MethodPatch, "/admin/jobsessions/"+sess, `{"status":"Success","endTime":"yesterday"}`, http.StatusBadRequest)
	post(http.MethodPatch, "/admin/jobsessions/"+sess, `{"status":"Success","log":[{"type":"Info"}]}`, http.StatusBadRequest)
	if m := decodeMap(t, e.get("/v8/JobSessions/"+sess, tok).body); m["status"] != StatusWarning {
		t.Errorf("a rejected patch changed the session: %v", m["status"])
	}
	post(http.MethodPatch, "/admin/jobsessions/00000000-0000-4000-8000-000000000000", `{}`, http.StatusNotFound)
	post(http.MethodPost, "/admin/jobsessions", `{"jobId":"nope"}`, http.StatusBadRequest)
	post(http.MethodPost, "/admin/jobs", `{"id":"x"}`, http.StatusBadRequest)

	post(http.MethodPut, "/admin/license", `{"licensedTo":"E2E","licenseExpires":"2024-05-06T04:00:00Z","totalNumber":10,"usedNumber":10}`, http.StatusNoContent)
	if m := decodeMap(t, e.get("/v8/License", tok).body); m["status"] != LicenseExpired || m["usedNumber"] != 10.0 {
		t.Errorf("license %v", m)
	}
	post(http.MethodPut, "/admin/license", `{"type":"Forever"}`, http.StatusBadRequest)
	repo := post(http.MethodPost, "/admin/repositories", `{"name":"Full","capacityBytes":100,"freeSpaceBytes":1}`, http.StatusCreated)["id"].(string)
	if m := decodeMap(t, e.get("/v8/BackupRepositories/"+repo, tok).body); m["freeSpaceBytes"] != 1.0 {
		t.Errorf("repository %v", m)
	}
	proxy := post(http.MethodPost, "/admin/proxies", `{"hostName":"p","status":"Offline"}`, http.StatusCreated)["id"].(string)
	if m := decodeMap(t, e.get("/v8/Proxies/"+proxy, tok).body); m["status"] != ProxyOffline {
		t.Errorf("proxy %v", m)
	}
	post(http.MethodPost, "/admin/faults", `{"endpoint":"jobsessions","jobId":"`+job+`","kind":"status","status":403}`, http.StatusNoContent)
	if r := e.get("/v8/JobSessions?jobId="+job, tok); r.status != http.StatusForbidden {
		t.Errorf("job fault: %d", r.status)
	}
	st := post(http.MethodGet, "/admin/stats", "", http.StatusOK)
	if st["byJob"].(map[string]any)[job] != 1.0 {
		t.Errorf("admin stats %v", st)
	}
}
