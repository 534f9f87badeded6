package simulator

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Endpoint names of the installation, for Stats and Fault.Endpoint.
const (
	EndpointJobs               = "jobs"               // /vN/Jobs and /vN/Jobs/{id}
	EndpointJobSessions        = "jobsessions"        // /vN/JobSessions and /v6/Jobs/{id}/JobSessions
	EndpointJobSession         = "jobsession"         // /vN/JobSessions/{id}
	EndpointJobSessionLogItems = "jobsessionlogitems" // /vN/JobSessions/{id}/LogItems
	EndpointLicense            = "license"            // /vN/License
	EndpointRepositories       = "repositories"       // /vN/BackupRepositories[/{id}]
	EndpointProxies            = "proxies"            // /vN/Proxies[/{id}]
)

var installEndpoints = []string{EndpointJobs, EndpointJobSessions, EndpointJobSession, EndpointJobSessionLogItems,
	EndpointLicense, EndpointRepositories, EndpointProxies}

// parseKindRoute routes the paths of the installation, the organizations and the restores;
// rest is the path after the version.
func parseKindRoute(rt *route, rest []string) bool {
	is := func(i int, name string) bool { return len(rest) > i && strings.EqualFold(rest[i], name) }
	rt.method = http.MethodGet
	switch {
	case len(rest) == 3 && is(0, "JobSessions") && is(2, "LogItems"):
		rt.endpoint = EndpointJobSessionLogItems
	case len(rest) == 2 && is(0, "JobSessions"):
		rt.endpoint = EndpointJobSession
	case len(rest) == 1 && is(0, "JobSessions"):
		rt.endpoint = EndpointJobSessions
	case len(rest) == 3 && is(0, "Jobs") && is(2, "JobSessions") && rt.ver == "v6":
		// Only v6 has the job's own session list; it is a list, not an object by ID.
		rt.endpoint, rt.id, rt.jobID = EndpointJobSessions, rest[1], rest[1]
		return true
	case len(rest) <= 2 && is(0, "Jobs"):
		rt.endpoint = EndpointJobs
	case len(rest) == 1 && is(0, "License"):
		rt.endpoint = EndpointLicense
	case len(rest) <= 2 && is(0, "BackupRepositories"):
		rt.endpoint = EndpointRepositories
	case len(rest) <= 2 && is(0, "Proxies"):
		rt.endpoint = EndpointProxies
	case len(rest) == 3 && is(0, "Organizations") && is(2, "LicensingInformation"):
		rt.endpoint = EndpointLicensingInformation
	case len(rest) == 3 && is(0, "Organizations") && is(2, "usedRepositories"):
		rt.endpoint = EndpointUsedRepositories
	case len(rest) <= 2 && is(0, "Organizations"):
		rt.endpoint = EndpointOrganizations
	case len(rest) == 1 && is(0, "LicensedUsers"):
		rt.endpoint = EndpointLicensedUsers
	case len(rest) == 1 && is(0, "RestoreSessions"):
		rt.endpoint = EndpointRestoreSessions
	case len(rest) == 2 && is(0, "RestoreSessions"):
		rt.endpoint = EndpointRestoreSession
	default:
		return false
	}
	if len(rest) > 1 {
		rt.id, rt.byID = rest[1], true
	}
	return true
}

// requestJob is the job a request is about, for Stats.ByJob and Fault.JobID.
func requestJob(rt route, r *http.Request) string {
	switch {
	case rt.jobID != "":
		return normID(rt.jobID)
	case rt.endpoint == EndpointJobSessions && rt.ver != "v6":
		return normID(r.URL.Query().Get("jobId"))
	case rt.endpoint == EndpointJobs && rt.byID:
		return normID(rt.id)
	}
	return ""
}

func (s *Simulator) serveInstall(w http.ResponseWriter, r *http.Request, rt route, now time.Time) {
	switch rt.endpoint {
	case EndpointJobs:
		if rt.byID {
			s.serveOne(w, rt, "jobId", "Job", func(id string) ([]byte, bool) {
				j, ok := s.job(id)
				if !ok {
					return nil, false
				}
				i, gen := s.inst.gen.jobIndex(id)
				if !gen {
					i = -1
				}
				return encodeJSON(s.jobJSON(rt.ver, j, s.summaryOf(s.inst.gen, j.ID, i, s.jobSummaries(now, j.ID), now))), true
			})
			return
		}
		s.serveJobs(w, r, rt.ver, now)
	case EndpointJobSessions:
		s.serveJobSessions(w, r, rt, now)
	case EndpointJobSession:
		s.serveOne(w, rt, "jobSessionsId", "Job session", func(id string) ([]byte, bool) {
			js, ok := s.jobSession(id, now, false)
			if !ok {
				return nil, false
			}
			return encodeJSON(s.jobSessionJSON(rt.ver, js)), true
		})
	case EndpointJobSessionLogItems:
		s.serveLog(w, r, rt, now, logKind{"JobSessions", "jobSession", "Job session", true}, func(id string) ([]LogItem, bool) {
			js, ok := s.jobSession(id, now, true)
			if !ok {
				return nil, false
			}
			return js.Log, true
		})
	case EndpointLicense:
		s.mu.Lock()
		l := communityLicense()
		if s.inst.license != nil {
			l = *s.inst.license
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, encodeJSON(licenseJSON(rt.ver, &l, now)))
	case EndpointRepositories:
		s.serveRepositories(w, r, rt)
	case EndpointProxies:
		s.serveProxies(w, r, rt)
	}
}

// uuidParams checks the UUID query parameters the version documents; false when it answered 400.
func uuidParams(w http.ResponseWriter, ver string, q url.Values, names ...string) bool {
	for _, k := range names {
		if v := q.Get(k); v != "" && !isUUID(v) {
			writeError(w, ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for %s.", v, k))
			return false
		}
	}
	return true
}

// boolParam reads a documented boolean parameter as ASP.NET binds it (true or false, any
// case); false when it answered 400.
func boolParam(w http.ResponseWriter, ver string, q url.Values, name string, def bool) (bool, bool) {
	switch v := q.Get(name); strings.ToLower(v) {
	case "":
		return def, true
	case "true", "false":
		return strings.EqualFold(v, "true"), true
	default:
		writeError(w, ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for %s.", v, name))
		return false, false
	}
}

// listSpec is what a list answer needs: v6/v7 arrays or pages, and paging.
type listSpec struct {
	ver, base     string
	q             url.Values
	array         bool // a bare JSON array: every entry, no paging
	offset, limit int
}

// listParams reads paging for a paged answer; false when it answered 400.
func listParams(w http.ResponseWriter, ver, base string, q url.Values, array bool) (listSpec, bool) {
	ls := listSpec{ver: ver, base: base, q: q, array: array, limit: maxLimit}
	if array {
		return ls, true
	}
	var err error
	if ls.offset, ls.limit, err = paging(q); err != nil {
		writeError(w, ver, http.StatusBadRequest, codeValidation, err.Error())
		return ls, false
	}
	return ls, true
}

// streamChunk is how many entries are encoded under the lock at a time; lists longer than
// one chunk are streamed without Content-Length, so a huge installation is never held in
// memory and a slow client never holds the simulator's lock.
const streamChunk = 500

// writeList answers n entries as ls says; at encodes entry i and runs under s.mu.
func (s *Simulator) writeList(w http.ResponseWriter, ls listSpec, n int, at func(i int) object) {
	from, to := 0, n
	var head, tail []byte
	if ls.array {
		head, tail = []byte("["), []byte("]")
	} else {
		from, to = window(n, ls.offset, ls.limit)
		page := object{{"offset", ls.offset}, {"limit", ls.limit}, {"setId", randomUUID()},
			{"_links", pageLinks(ls.base, ls.q, ls.offset, ls.limit, n)}}
		if ls.ver != "v8" {
			page = append(page, field{"totalCount", n})
		}
		enc := encodeJSON(page)
		head, tail = append(enc[:len(enc)-1], `,"results":[`...), []byte("]}")
	}
	var buf bytes.Buffer
	buf.Write(head)
	streaming := to-from > streamChunk
	if streaming {
		w.Header().Set("Content-Type", jsonContentType)
		w.WriteHeader(http.StatusOK)
	}
	for c := from; c < to; c += streamChunk {
		s.mu.Lock()
		for i := c; i < min(c+streamChunk, to); i++ {
			if i > from {
				buf.WriteByte(',')
			}
			writeValue(&buf, at(i))
		}
		s.mu.Unlock()
		if streaming {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			buf.Reset()
		}
	}
	buf.Write(tail)
	if streaming {
		_, _ = w.Write(buf.Bytes())
		return
	}
	writeJSON(w, http.StatusOK, buf.Bytes())
}

// job finds an explicit or generated job; caller holds s.mu.
func (s *Simulator) job(id string) (*Job, bool) {
	if j, ok := s.inst.jobs[id]; ok {
		return j, true
	}
	if i, ok := s.inst.gen.jobIndex(id); ok {
		j := s.inst.gen.job(i)
		return &j, true
	}
	return nil, false
}

// genJob is generated job i of g, or what replaced it. Lists pass the g they started with:
// a GenerateInstallation between two chunks of a streamed list must not break it.
func (s *Simulator) genJob(g *generated, i int) *Job {
	if j, ok := s.inst.jobs[genJobID(i)]; ok {
		return j
	}
	j := g.job(i)
	return &j
}

// genSession is the session at list position k of generated job i of g, or what replaced it.
func (s *Simulator) genSession(g *generated, i, k int, now time.Time) *JobSession {
	if js, ok := s.inst.sessions[genSessionID(i, k)]; ok {
		js.advance(now)
		return js
	}
	js := g.session(i, k, false)
	js.advance(now)
	return &js
}

// jobSummary is what a job reports about its sessions.
type jobSummary struct {
	lastRun, lastBackup time.Time
	lastStatus          string
}

func (sum *jobSummary) add(js *JobSession) {
	if js.CreationTime.After(sum.lastRun) {
		sum.lastRun, sum.lastStatus = js.CreationTime, js.Status
	}
	if (js.Status == StatusSuccess || js.Status == StatusWarning) && js.EndTime.After(sum.lastBackup) {
		sum.lastBackup = js.EndTime
	}
}

// jobSummaries sums up the sessions of the given jobs (all when none given); caller holds s.mu.
func (s *Simulator) jobSummaries(now time.Time, ids ...string) map[string]*jobSummary {
	out := map[string]*jobSummary{}
	want := func(id string) bool { return len(ids) == 0 || contains(ids, id) }
	for _, js := range s.inst.sessions {
		if want(js.JobID) {
			js.advance(now)
			if out[js.JobID] == nil {
				out[js.JobID] = &jobSummary{}
			}
			out[js.JobID].add(js)
		}
	}
	return out
}

// summaryOf is job id's summary: its explicit sessions' (from sums) and, when it is generated
// job i of g (i ≥ 0), its newest generated session and newest good one.
func (s *Simulator) summaryOf(g *generated, id string, i int, sums map[string]*jobSummary, now time.Time) *jobSummary {
	sum := &jobSummary{}
	if sums[id] != nil {
		*sum = *sums[id]
	}
	for r := 0; i >= 0 && r < g.perJob; r++ {
		sum.add(s.genSession(g, i, g.position(r), now))
		if !sum.lastBackup.IsZero() {
			break
		}
	}
	return sum
}

func (s *Simulator) serveJobs(w http.ResponseWriter, r *http.Request, ver string, now time.Time) {
	q := r.URL.Query()
	if ver == "v8" && !uuidParams(w, ver, q, "organizationId", "repositoryId") {
		return
	}
	ls, ok := listParams(w, ver, "/"+ver+"/Jobs", q, ver != "v8")
	if !ok {
		return
	}
	org, repo := "", ""
	if ver == "v8" {
		org, repo = normID(q.Get("organizationId")), normID(q.Get("repositoryId"))
	}
	keep := func(j *Job) bool {
		return (org == "" || j.OrganizationID == org) && (repo == "" || j.RepositoryID == repo)
	}
	s.mu.Lock()
	g := s.inst.gen
	explicit := sortedByID(s.inst.jobs, func(id string, j *Job) bool { _, gen := g.jobIndex(id); return !gen && keep(j) })
	// Generated jobs follow: all of them, or the ones a filter keeps.
	nGen, gen := 0, []int(nil)
	if g != nil {
		nGen = g.jobs
		if org != "" || repo != "" {
			for i := 0; i < g.jobs; i++ {
				if keep(s.genJob(g, i)) {
					gen = append(gen, i)
				}
			}
			nGen = len(gen)
		}
	}
	sums := s.jobSummaries(now)
	s.mu.Unlock()
	s.writeList(w, ls, len(explicit)+nGen, func(x int) object {
		if x < len(explicit) {
			return s.jobJSON(ver, explicit[x], sums[explicit[x].ID])
		}
		i := x - len(explicit)
		if gen != nil {
			i = gen[i]
		}
		j := s.genJob(g, i)
		return s.jobJSON(ver, j, s.summaryOf(g, j.ID, i, sums, now))
	})
}

// sessionFilter is the job session list's filters as the version documents them.
type sessionFilter struct {
	job, jobType, status string
	after, before        time.Time
}

func (f *sessionFilter) extra() bool {
	return f.jobType != "" || f.status != "" || !f.after.IsZero() || !f.before.IsZero()
}

func (f *sessionFilter) keep(js *JobSession, jobType string) bool {
	// The documents describe both bounds as sessions "created" after or before the time.
	return (f.job == "" || js.JobID == f.job) && (f.jobType == "" || jobType == f.jobType) &&
		(f.status == "" || js.Status == f.status) &&
		(f.after.IsZero() || js.CreationTime.After(f.after)) && (f.before.IsZero() || js.CreationTime.Before(f.before))
}

// parseTime reads a date-time query parameter as ASP.NET does: with or without an offset.
func parseTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// sessionFilters reads the version's documented filters; parameters a version does not know
// are ignored, as ASP.NET does (so v6 lists every session whatever jobId says).
func sessionFilters(w http.ResponseWriter, rt route, q url.Values) (sessionFilter, bool) {
	f := sessionFilter{job: normID(rt.jobID)}
	bad := func(name, v string) (sessionFilter, bool) {
		writeError(w, rt.ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for %s.", v, name))
		return f, false
	}
	if rt.jobID != "" && !isUUID(rt.jobID) {
		return bad("jobId", rt.jobID)
	}
	if rt.ver != "v6" {
		if !uuidParams(w, rt.ver, q, "jobId") {
			return f, false
		}
		f.job = normID(q.Get("jobId"))
	}
	if v := q.Get("jobType"); v != "" {
		if f.jobType = enumValue(v, jobTypes); f.jobType == "" {
			return bad("jobType", v)
		}
	}
	bounds := []struct {
		name string
		dst  *time.Time
	}{{"endTimeLowerBound", &f.after}}
	if rt.ver != "v6" {
		bounds = append(bounds, struct {
			name string
			dst  *time.Time
		}{"endTimeUpperBound", &f.before})
	}
	for _, b := range bounds {
		if v := q.Get(b.name); v != "" {
			t, ok := parseTime(v)
			if !ok {
				return bad(b.name, v)
			}
			*b.dst = t
		}
	}
	if v := q.Get("status"); v != "" && rt.ver == "v8" {
		// The filter says Succeeded where the session's own status says Success.
		switch f.status = enumValue(v, []string{StatusStopped, StatusRunning, "Succeeded", StatusFailed, StatusWarning}); f.status {
		case "":
			return bad("status", v)
		case "Succeeded":
			f.status = StatusSuccess
		}
	}
	return f, true
}

func (s *Simulator) serveJobSessions(w http.ResponseWriter, r *http.Request, rt route, now time.Time) {
	q := r.URL.Query()
	f, ok := sessionFilters(w, rt, q)
	if !ok {
		return
	}
	base := "/" + rt.ver + "/JobSessions"
	if rt.jobID != "" {
		base = "/v6/Jobs/" + normID(rt.jobID) + "/JobSessions"
	}
	ls, ok := listParams(w, rt.ver, base, q, false)
	if !ok {
		return
	}
	s.mu.Lock()
	if rt.jobID != "" {
		if _, ok := s.job(f.job); !ok {
			s.mu.Unlock()
			writeError(w, rt.ver, http.StatusNotFound, codeNotFound, fmt.Sprintf("Job with ID %s was not found.", f.job))
			return
		}
	}
	g := s.inst.gen
	explicit := sortedByID(s.inst.sessions, func(id string, js *JobSession) bool {
		if _, _, gen := g.sessionIndex(id); gen {
			return false
		}
		js.advance(now)
		return f.keep(js, s.sessionJobType(js))
	})
	// Generated sessions follow, job by job; jobs is their range of job indexes.
	jobs, per := [2]int{}, 0
	if g != nil {
		jobs, per = [2]int{0, g.jobs}, g.perJob
		if f.job != "" {
			jobs = [2]int{0, 0}
			if i, ok := g.jobIndex(f.job); ok {
				jobs = [2]int{i, i + 1}
			}
		}
	}
	var picked []int64 // i<<32|k of the generated sessions that pass extra filters
	if f.extra() {
		overridden := map[int][]int{} // positions of changed generated sessions, by job
		for id := range s.inst.sessions {
			if i, k, ok := g.sessionIndex(id); ok {
				overridden[i] = append(overridden[i], k)
			}
		}
		for i := jobs[0]; i < jobs[1]; i++ {
			for _, k := range g.candidates(i, f.after, f.before, overridden[i]) {
				if js := s.genSession(g, i, k, now); f.keep(js, s.sessionJobType(js)) {
					picked = append(picked, int64(i)<<32|int64(k))
				}
			}
		}
	}
	s.mu.Unlock()
	n := len(explicit) + (jobs[1]-jobs[0])*per
	if f.extra() {
		n = len(explicit) + len(picked)
	}
	s.writeList(w, ls, n, func(x int) object {
		if x < len(explicit) {
			return s.jobSessionJSON(rt.ver, explicit[x])
		}
		x -= len(explicit)
		i, k := jobs[0]+x/max(per, 1), x%max(per, 1)
		if f.extra() {
			i, k = int(picked[x]>>32), int(picked[x]&0xffffffff)
		}
		return s.jobSessionJSON(rt.ver, s.genSession(g, i, k, now))
	})
}

// sessionJobType is the session's jobType: its own, else its job's; caller holds s.mu.
func (s *Simulator) sessionJobType(js *JobSession) string {
	if js.JobType != "" {
		return js.JobType
	}
	if j, ok := s.job(js.JobID); ok && j.Type != "" {
		return j.Type
	}
	return JobTypeBackup
}

func (s *Simulator) serveRepositories(w http.ResponseWriter, r *http.Request, rt route) {
	if rt.byID {
		serveFrom(s, w, rt, "repositoryId", "Backup repository", s.inst.repos, func(r *Repository) object { return repositoryJSON(rt.ver, r) })
		return
	}
	q := r.URL.Query()
	params := []string{"proxyId"}
	if rt.ver == "v8" {
		params = append(params, "proxyPoolId", "organizationId")
	}
	if !uuidParams(w, rt.ver, q, params...) {
		return
	}
	longTerm, ok := boolParam(w, rt.ver, q, "longTerm", false)
	if !ok {
		return
	}
	ls, ok := listParams(w, rt.ver, "/"+rt.ver+"/BackupRepositories", q, rt.ver != "v8")
	if !ok {
		return
	}
	s.mu.Lock()
	list := sortedByID(s.inst.repos, func(_ string, repo *Repository) bool {
		match := func(param, v string) bool {
			return !contains(params, param) || q.Get(param) == "" || normID(q.Get(param)) == normID(v)
		}
		return match("proxyId", repo.ProxyID) && match("proxyPoolId", repo.ProxyPoolID) && match("organizationId", repo.OrganizationID) &&
			(q.Get("longTerm") == "" || repo.LongTerm == longTerm)
	})
	s.mu.Unlock()
	s.writeList(w, ls, len(list), func(i int) object { return repositoryJSON(rt.ver, list[i]) })
}

func (s *Simulator) serveProxies(w http.ResponseWriter, r *http.Request, rt route) {
	q := r.URL.Query()
	// extendedView: v6 defaults to true, v7 to false; v8 does not know it.
	extended := rt.ver == "v6"
	if rt.ver != "v8" {
		var ok bool
		if extended, ok = boolParam(w, rt.ver, q, "extendedView", extended); !ok {
			return
		}
	}
	if rt.byID {
		serveFrom(s, w, rt, "proxyId", "Backup proxy", s.inst.proxies, func(p *Proxy) object { return proxyJSON(rt.ver, p, extended) })
		return
	}
	ls, ok := listParams(w, rt.ver, "/"+rt.ver+"/Proxies", q, rt.ver != "v8")
	if !ok {
		return
	}
	s.mu.Lock()
	list := sortedByID(s.inst.proxies, nil)
	s.mu.Unlock()
	s.writeList(w, ls, len(list), func(i int) object { return proxyJSON(rt.ver, list[i], extended) })
}
