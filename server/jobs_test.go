package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// fakeInstall is a VB365 installation as v6, v7 or v8 serve it, small enough to reason
// about each request: lists in reverse order of creation (never assume newest first), the
// endTimeLowerBound filter ignored (a server may), and a status to answer per path.
type fakeInstall struct {
	version string
	mu      sync.Mutex
	jobs    []fakeJob
	// sessions by job ID, in creation order.
	sessions map[string][]fakeSession
	fail     map[string]int // path (after /vN) → status
	asked    []string
}

type fakeJob struct {
	ID, LastStatus string
	LastRun        time.Time
}

type fakeSession struct {
	ID, Status     string
	Created, Ended time.Time
}

func (f *fakeInstall) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/"+f.version)
	if path == "/token" {
		fmt.Fprint(w, `{"access_token":"access-token-1","refresh_token":"refresh-token-1","expires_in":3600}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, path+"?"+r.URL.RawQuery)
	if code := f.fail[path]; code != 0 {
		w.WriteHeader(code)
		fmt.Fprint(w, `{"message":"refused"}`)
		return
	}
	list := func(entries []any) any {
		if f.version == "v8" || strings.Contains(path, "JobSessions") {
			return map[string]any{"offset": 0, "limit": 1000, "results": entries}
		}
		return entries
	}
	var out any
	jobID := r.URL.Query().Get("jobId")
	switch {
	case path == "/Jobs":
		var e []any
		for _, j := range f.jobs {
			m := map[string]any{"id": j.ID, "name": "job " + j.ID, "isEnabled": true, "lastStatus": j.LastStatus}
			if !j.LastRun.IsZero() {
				m["lastRun"] = j.LastRun
			}
			e = append(e, m)
		}
		out = list(e)
	case strings.HasSuffix(path, "/LogItems"):
		out = map[string]any{"offset": 0, "limit": 1000, "totalCount": 1, "results": []any{
			map[string]any{"id": "l1", "usn": 1, "title": "[Error] Mailbox user1: access denied", "type": "Error", "message": "Mailbox user1: access denied"}}}
	case f.version == "v6" && strings.HasPrefix(path, "/Jobs/") && strings.HasSuffix(path, "/JobSessions"):
		jobID = strings.Split(path, "/")[2]
		fallthrough
	case path == "/JobSessions" && jobID != "":
		e := []any{}
		for _, s := range slices.Backward(f.sessions[jobID]) {
			e = append(e, f.session(jobID, s))
		}
		var off, limit int
		_, _ = fmt.Sscan(r.URL.Query().Get("offset"), &off)
		_, _ = fmt.Sscan(r.URL.Query().Get("limit"), &limit)
		out = map[string]any{"offset": off, "limit": limit, "totalCount": len(e), "results": e[min(off, len(e)):min(off+limit, len(e))]}
	case strings.HasPrefix(path, "/JobSessions/"):
		id := strings.TrimPrefix(path, "/JobSessions/")
		for j, list := range f.sessions {
			for _, s := range list {
				if s.ID == id {
					out = f.session(j, s)
				}
			}
		}
	case path == "/License":
		out = map[string]any{"status": "Valid", "type": "Subscription", "licensedTo": "Contoso", "totalNumber": 10, "usedNumber": 9}
	case path == "/BackupRepositories":
		out = list([]any{map[string]any{"id": "r1", "name": "repo", "capacityBytes": 100, "freeSpaceBytes": 5}})
	case path == "/Proxies":
		out = list([]any{map[string]any{"id": "p1", "hostName": "proxy", "status": "Offline"}})
	}
	if out == nil {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"No HTTP resource was found"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeInstall) session(jobID string, s fakeSession) map[string]any {
	m := map[string]any{"id": s.ID, "creationTime": s.Created, "status": s.Status, "progress": 50, "retryCount": 0,
		"statistics": map[string]any{"transferredDataBytes": 1000, "processedObjects": 10, "processingRateBytesPS": 7}}
	if !s.Ended.IsZero() {
		m["endTime"] = s.Ended
	}
	if f.version == "v8" {
		m["jobId"] = jobID
	}
	return m
}

// requests returns and forgets the requests asked since the last call.
func (f *fakeInstall) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.asked
	f.asked = nil
	return r
}

func (f *fakeInstall) edit(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

var t0Jobs = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newInstallFixture(t *testing.T, version string, logs *bytes.Buffer) (*fakeInstall, *Server) {
	t.Helper()
	at := func(h int) time.Time { return t0Jobs.Add(time.Duration(h) * time.Hour) }
	f := &fakeInstall{version: version, fail: map[string]int{}, sessions: map[string][]fakeSession{
		"ja": {
			{ID: "a1", Status: "Success", Created: at(-30), Ended: at(-29)},
			{ID: "a2", Status: "Warning", Created: at(-20), Ended: at(-19)},
			{ID: "a3", Status: "Failed", Created: at(-10), Ended: at(-9)},
			{ID: "a4", Status: "Running", Created: at(-1)},
		},
		"jb": {
			{ID: "b0", Status: "Running", Created: at(-50)}, // never closed by the server
			{ID: "b1", Status: "Success", Created: at(-5), Ended: at(-4)},
		},
	}}
	f.jobs = []fakeJob{{ID: "ja", LastStatus: "Running", LastRun: at(-1)}, {ID: "jb", LastStatus: "Success", LastRun: at(-5)}, {ID: "jc"}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	var logger = log.NewNopLogger()
	if logs != nil {
		logger = log.NewLogfmtLogger(log.NewSyncWriter(logs))
	}
	cfg := &config.ServerConfig{Name: "prod", URL: srv.URL, APIVersion: version, Username: "u", Password: "p4ss",
		MaxConcurrentRequests: 4, CacheTTL: ttl(10 * time.Minute), Collect: config.CollectKinds[1:5]} // the tenants' kinds have tests of their own
	tgt, err := New(cfg, Options{Logger: logger, Now: func() time.Time { return t0Jobs }})
	if err != nil {
		t.Fatal(err)
	}
	return f, tgt
}

func scrapeJobs(t *testing.T, tgt *Server) (*Snapshot, map[vb365.ID]JobResult) {
	t.Helper()
	// A deadline far beyond what the reads take, even under -race on a loaded machine: the
	// tests count requests, not time.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := tgt.Snapshot(ctx)
	m := map[vb365.ID]JobResult{}
	for _, j := range s.Jobs {
		m[j.Job.ID] = j
	}
	return s, m
}

func sessionLists(asked []string) (n int) {
	for _, a := range asked {
		if strings.Contains(a, "JobSessions?") {
			n++
		}
	}
	return n
}

// A job's history is read once; then a scrape lists nothing unless a job ran, follows the
// running sessions by ID, and reads a Failed session's log once.
func TestJobsIncremental(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f, tgt := newInstallFixture(t, version, nil)
			at := func(h int) time.Time { return t0Jobs.Add(time.Duration(h) * time.Hour) }

			snap, jobs := scrapeJobs(t, tgt)
			asked := f.requests()
			if !snap.Up || len(snap.Jobs) != 3 || snap.License == nil || len(snap.Repositories) != 1 || len(snap.Proxies) != 1 {
				t.Fatalf("cold scrape: up %v, %d jobs, license %v, %d repositories, %d proxies", snap.Up, len(snap.Jobs), snap.License, len(snap.Repositories), len(snap.Proxies))
			}
			a := jobs["ja"]
			if a.LastFinished == nil || a.LastFinished.ID != "a3" || a.Running == nil || a.Running.ID != "a4" || !a.LastSuccessEnd.Equal(at(-19)) {
				t.Errorf("job a: %+v", a)
			}
			if a.Log == nil || a.Log.Reason == nil || a.Log.Reason.Message != "Mailbox user1: access denied" {
				t.Errorf("job a's reason: %+v", a.Log)
			}
			if b := jobs["jb"]; b.Running != nil || b.LastFinished == nil || b.LastFinished.ID != "b1" {
				t.Errorf("job b: a running session older than a finished one is stale, not running: %+v", b)
			}
			if c := jobs["jc"]; c.LastFinished != nil || c.Running != nil || !c.LastSuccessEnd.IsZero() {
				t.Errorf("job c has no sessions: %+v", c)
			}
			// jobs, 3 session lists, a's log, license, repositories, proxies.
			if len(asked) != 8 || sessionLists(asked) != 3 {
				t.Errorf("cold scrape asked %d: %v", len(asked), asked)
			}
			for _, c := range snap.Collectors {
				if c.Err != nil {
					t.Errorf("collector %s: %v", c.Name, c.Err)
				}
			}

			// Warm: the job list and the running session, nothing else.
			_, jobs = scrapeJobs(t, tgt)
			if asked := f.requests(); !slices.Equal(asked, []string{"/Jobs?" + pageQuery(version), "/JobSessions/a4?"}) {
				t.Errorf("warm scrape asked %v", asked)
			}
			if jobs["ja"].Log == nil {
				t.Error("the reason is kept")
			}

			// a4 ends: followed by ID, no list needed.
			f.edit(func() {
				f.sessions["ja"][3].Status, f.sessions["ja"][3].Ended = "Success", at(0)
				f.jobs[0].LastStatus = "Success"
			})
			_, jobs = scrapeJobs(t, tgt)
			if asked := f.requests(); len(asked) != 2 || sessionLists(asked) != 0 {
				t.Errorf("a followed session ending asked %v", asked)
			}
			if a := jobs["ja"]; a.Running != nil || a.LastFinished.ID != "a4" || !a.LastSuccessEnd.Equal(at(0)) || a.Log != nil {
				t.Errorf("job a after a4 ended: %+v", a)
			}

			// b runs again: its lastRun says so, and its sessions are listed from the newest seen.
			f.edit(func() {
				f.sessions["jb"] = append(f.sessions["jb"], fakeSession{ID: "b2", Status: "Running", Created: at(0)})
				f.jobs[1].LastStatus, f.jobs[1].LastRun = "Running", at(0)
			})
			_, jobs = scrapeJobs(t, tgt)
			asked = f.requests()
			if len(asked) != 2 || sessionLists(asked) != 1 {
				t.Errorf("a job that ran asked %v", asked)
			}
			if version != "v6" && !strings.Contains(asked[1], "endTimeLowerBound=2026-03-01T06%3A59%3A00Z") {
				t.Errorf("v7 and v8 list from the newest session seen (b1, created 07:00): %s", asked[1])
			}
			if b := jobs["jb"]; b.Running == nil || b.Running.ID != "b2" || b.LastFinished.ID != "b1" {
				t.Errorf("job b running again: %+v", b)
			}

			// A job that is no longer listed is forgotten.
			f.edit(func() { f.jobs = f.jobs[1:] })
			if _, jobs = scrapeJobs(t, tgt); len(jobs) != 2 || len(tgt.install.jobs) != 2 {
				t.Errorf("after job a was deleted: %d jobs, %d kept", len(jobs), len(tgt.install.jobs))
			}
		})
	}
}

func pageQuery(version string) string {
	if version == "v8" {
		return "limit=10000&offset=0"
	}
	return ""
}

// A kind the account may not read, or the version lacks, fails alone: its collector says
// why, a line is logged once, up stays 1 and the other kinds are shown.
func TestKindFailsAlone(t *testing.T) {
	var logs bytes.Buffer
	f, tgt := newInstallFixture(t, "v7", &logs)
	f.fail["/License"], f.fail["/Proxies"] = 403, 404
	for range 2 {
		snap, _ := scrapeJobs(t, tgt)
		if !snap.Up || len(snap.Jobs) != 3 || len(snap.Repositories) != 1 || snap.License != nil || snap.Proxies != nil {
			t.Fatalf("up %v, %d jobs, %d repositories, license %v, proxies %v", snap.Up, len(snap.Jobs), len(snap.Repositories), snap.License, snap.Proxies)
		}
		errs := map[string]string{}
		for _, c := range snap.Collectors {
			errs[c.Name] = fmt.Sprint(c.Err)
		}
		if !strings.HasPrefix(errs["license"], "the account may not read license: license: HTTP 403") ||
			!strings.HasPrefix(errs["proxies"], "the server does not serve proxies at this api_version: proxies: HTTP 404") ||
			errs["jobs"] != "<nil>" || errs["repositories"] != "<nil>" || errs["logs"] != "<nil>" || len(errs) != 5 {
			t.Errorf("collectors %v", errs)
		}
	}
	if n := strings.Count(logs.String(), "not read; their metrics are absent"); n != 2 {
		t.Errorf("%d lines over two scrapes, want one per failing kind:\n%s", n, logs.String())
	}
	// Every kind failing at once does not take up down either, as long as the API answers.
	f.fail["/Jobs"], f.fail["/BackupRepositories"] = 403, 403
	if snap, _ := scrapeJobs(t, tgt); !snap.Up {
		t.Errorf("up %v: 403s are answers", snap.Up)
	}
}

// A job's history, however long and in whatever order, costs one session of memory per
// maximum kept; a history longer than a read's bound says it was cut.
func TestJobHistoryBounded(t *testing.T) {
	f, tgt := newInstallFixture(t, "v7", nil)
	var long []fakeSession
	for i := range 25000 {
		created := t0Jobs.Add(-time.Duration(25000-i) * time.Minute)
		long = append(long, fakeSession{ID: fmt.Sprint("s", i), Status: "Success", Created: created, Ended: created.Add(time.Second)})
	}
	f.edit(func() { f.sessions["jb"] = long })
	snap, jobs := scrapeJobs(t, tgt)
	b := jobs["jb"]
	// Served newest first, the part read holds the newest: the maxima are right, and the cut said.
	if !b.Truncated || snap.JobSessionsTruncated != 1 || b.LastFinished == nil || b.LastFinished.ID != "s24999" {
		t.Errorf("truncated %v (%d), last %+v", b.Truncated, snap.JobSessionsTruncated, b.LastFinished)
	}
	if n := sessionLists(f.requests()); n != maxJobSessionPages+2 {
		t.Errorf("%d list pages, want the bound for b and one each for a and c", n)
	}
}

// Against the simulator's demo installation, as v6, v7 and v8 serve it: every kind read,
// the reasons of the Failed and Warning jobs, the running one followed by ID afterwards.
func TestDemoInstallationEveryVersion(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			f := newFixture(t, config.ServerConfig{APIVersion: version, Collect: config.CollectKinds, CacheTTL: ttl(10 * time.Minute)})
			f.sim.LoadDemoData()
			snap, jobs := scrapeJobs(t, f.tgt)
			for _, c := range snap.Collectors {
				if c.Err != nil {
					t.Errorf("collector %s: %v", c.Name, c.Err)
				}
			}
			if len(jobs) != 7 || snap.License == nil || len(snap.Repositories) != 3 || len(snap.Proxies) != 3 {
				t.Fatalf("%d jobs, license %v, %d repositories, %d proxies", len(jobs), snap.License, len(snap.Repositories), len(snap.Proxies))
			}
			failed, warning := jobs[simulator.DemoJobFailedID], jobs[simulator.DemoJobWarningID]
			if failed.LastFinished == nil || failed.LastFinished.Status != vb365.StatusFailed || failed.Log == nil || failed.Log.Reason == nil ||
				failed.LastSuccessEnd.IsZero() {
				t.Errorf("failed job: %+v", failed)
			}
			if warning.LastFinished == nil || warning.LastFinished.Status != vb365.StatusWarning || warning.Log == nil || warning.Log.Reason == nil {
				t.Errorf("warning job: %+v", warning)
			}
			if r := jobs[simulator.DemoJobRunningID]; r.Running == nil || r.Running.JobID != simulator.DemoJobRunningID {
				t.Errorf("running job: %+v", r)
			}
			if n := jobs[simulator.DemoJobNeverRunID]; n.LastFinished != nil || n.Running != nil || !n.Job.Enabled {
				t.Errorf("never run job: %+v", n)
			}
			if d := jobs[simulator.DemoJobDisabledID]; d.Job.Enabled {
				t.Errorf("disabled job: %+v", d)
			}
			maint := 0
			for _, p := range snap.Proxies {
				if (p.Maintenance != "") != (version == "v8") || (p.CPU != nil) != (version == "v8" && p.Status == "Online") {
					t.Errorf("%s proxy %+v: maintenance and usage are v8's, of an online proxy", version, p)
				}
				if p.Maintenance == "Enabled" {
					maint++
				}
			}
			if version == "v8" && maint != 1 {
				t.Errorf("%d proxies in maintenance, want 1", maint)
			}
			if snap.License.Expires.IsZero() || snap.License.Licensed == 0 {
				t.Errorf("license %+v", snap.License)
			}
			before := f.sim.Stats().ByEndpoint
			scrapeJobs(t, f.tgt)
			after := f.sim.Stats().ByEndpoint
			if after[simulator.EndpointJobSessions] != before[simulator.EndpointJobSessions] || after[simulator.EndpointJobSession] != before[simulator.EndpointJobSession]+1 ||
				after[simulator.EndpointJobSessionLogItems] != before[simulator.EndpointJobSessionLogItems] {
				t.Errorf("warm scrape: %v -> %v; want only the running session by ID", before, after)
			}
		})
	}
}

// 100,000 jobs cost what max_jobs allows: the rest are counted, not decoded, and their
// histories are not read; a job with 1,000,000 sessions is read up to the bound and says so.
func TestHugeInstallationBounded(t *testing.T) {
	f := newFixture(t, config.ServerConfig{APIVersion: "v8", Collect: []string{config.CollectJobs}, MaxJobs: 20, CacheTTL: ttl(10 * time.Minute)})
	f.sim.GenerateInstallation(100000, 3, 0)
	snap, _ := scrapeJobs(t, f.tgt)
	st := f.sim.Stats().ByEndpoint
	if len(snap.Jobs) != 20 || snap.JobsDropped != 99980 || st[simulator.EndpointJobSessions] != 20 {
		t.Errorf("%d jobs, %d dropped, %d session lists; want 20, 99980, 20", len(snap.Jobs), snap.JobsDropped, st[simulator.EndpointJobSessions])
	}

	f = newFixture(t, config.ServerConfig{APIVersion: "v8", Collect: []string{config.CollectJobs}, CacheTTL: ttl(10 * time.Minute)})
	f.sim.GenerateInstallation(1, 1000000, 0)
	snap, _ = scrapeJobs(t, f.tgt)
	if len(snap.Jobs) != 1 || !snap.Jobs[0].Truncated || snap.JobSessionsTruncated != 1 || snap.Jobs[0].LastFinished == nil {
		t.Errorf("a job of 1,000,000 sessions: %+v", snap.Jobs)
	}
	if n := f.sim.Stats().ByEndpoint[simulator.EndpointJobSessions]; n != maxJobSessionPages {
		t.Errorf("%d pages read, want the bound %d", n, maxJobSessionPages)
	}
}
