package simulator

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// generated is an installation made up on demand from indexes, so that 100,000 jobs or a job
// with 1,000,000 sessions cost no memory until served. Its objects come after the explicit
// ones in lists; AddJob, AddJobSession or UpdateJobSession on one of their IDs overrides it
// in place.
type generated struct {
	jobs, perJob, runningEvery int
	base                       time.Time
	// The session at list position k of a job is its (k*mult+shift)%perJob-th newest, so
	// lists are in a stable order that is not the order of time.
	mult, inv, shift int
}

// genInterval is how often a generated job runs.
const genInterval = time.Hour

// Fixed IDs of what GenerateInstallation adds besides jobs.
var (
	genRepoIDs  = []string{"2e9a0000-0000-4000-8000-00000000a001", "2e9a0000-0000-4000-8000-00000000a002", "2e9a0000-0000-4000-8000-00000000a003", "2e9a0000-0000-4000-8000-00000000a004"}
	genProxyIDs = []string{"9b0c0000-0000-4000-8000-00000000b001", "9b0c0000-0000-4000-8000-00000000b002"}
	genOrgs     = []string{"Contoso", "Fabrikam", "Northwind", "Tailspin", "Wingtip", "Adatum", "Litware", "Proseware"}
	genWork     = []string{"Exchange", "OneDrive", "SharePoint", "Teams"}
)

func genJobID(i int) string        { return fmt.Sprintf("%08x-10b5-4000-8000-000000000000", i) }
func genSessionID(i, k int) string { return fmt.Sprintf("%08x-5e55-4000-8000-%012x", i, k) }

// GenerateInstallation replaces the generated part of the installation with jobs jobs of
// sessionsPerJob sessions each, one an hour, the newest of every runningEvery-th job still
// running (0: none); about one session in 30 Failed and one in 20 Warning, each with a log
// giving the reason. It also adds four repositories and two proxies, and a subscription
// license unless one was set. Nothing is stored per job or session: they are computed when
// served, so the size of the installation costs no memory.
func (s *Simulator) GenerateInstallation(jobs, sessionsPerJob, runningEvery int) {
	g := &generated{jobs: max(jobs, 0), perJob: max(sessionsPerJob, 0), runningEvery: max(runningEvery, 0), base: s.opts.Now(), mult: 1, inv: 1}
	if n := g.perJob; n > 1 {
		g.shift = n / 2
		for _, p := range []int{7919, 7927, 7933, 7937, 7949, 7951} {
			if gcd(p%n, n) == 1 && p%n != 1 {
				g.mult = p % n
				break
			}
		}
		g.inv = modInverse(g.mult, n)
	}
	for i, id := range genRepoIDs {
		_ = s.AddRepository(Repository{ID: id, Name: fmt.Sprintf("Repository %d", i+1), Path: fmt.Sprintf(`E:\Backups\Repo%d`, i+1),
			CapacityBytes: 4 << 40, FreeSpaceBytes: int64(1+i) << 39, ProxyID: genProxyIDs[i%len(genProxyIDs)]})
	}
	for i, id := range genProxyIDs {
		_ = s.AddProxy(Proxy{ID: id, HostName: fmt.Sprintf("vbo-proxy%02d", i+1), FQDN: fmt.Sprintf("vbo-proxy%02d.corp.example", i+1),
			CPUPercent: 20 + float64(10*i), MemoryPercent: 40})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inst.gen = g
	// What replaced generated objects goes with them.
	for id := range s.inst.sessions {
		if _, _, ok := parseGen(id, "-5e55-4000-8000-"); ok {
			delete(s.inst.sessions, id)
		}
	}
	for id := range s.inst.jobs {
		if _, _, ok := parseGen(id, "-10b5-4000-8000-"); ok {
			delete(s.inst.jobs, id)
		}
	}
	if s.inst.license == nil {
		s.inst.license = &License{ID: "1c3b0000-0000-4000-8000-00000000c001", Status: LicenseValid, Type: LicenseSubscription,
			Package: "Veeam Backup for Microsoft 365", LicensedTo: "Example Corp", Email: "it@corp.example",
			Expires: g.base.Add(200 * 24 * time.Hour), TotalUsers: 10000, UsedUsers: 7420, SupportID: "01234567"}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// modInverse of a modulo n, for a coprime with n.
func modInverse(a, n int) int {
	t, nt, r, nr := 0, 1, n, a
	for nr != 0 {
		q := r / nr
		t, nt = nt, t-q*nt
		r, nr = nr, r-q*nr
	}
	if t < 0 {
		t += n
	}
	return t
}

// parseGen reads the two hex numbers of a generated ID with the given middle, if it is one.
func parseGen(id, middle string) (a, b int, ok bool) {
	if len(id) != 36 || id[8:24] != middle {
		return 0, 0, false
	}
	x, err1 := strconv.ParseUint(id[:8], 16, 32)
	y, err2 := strconv.ParseUint(id[24:], 16, 48)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return int(x), int(y), true
}

func (g *generated) jobIndex(id string) (int, bool) {
	if g == nil {
		return 0, false
	}
	i, z, ok := parseGen(id, "-10b5-4000-8000-")
	return i, ok && z == 0 && i < g.jobs
}

func (g *generated) sessionIndex(id string) (i, k int, ok bool) {
	if g == nil {
		return 0, 0, false
	}
	i, k, ok = parseGen(id, "-5e55-4000-8000-")
	return i, k, ok && i < g.jobs && k < g.perJob
}

// hash mixes indexes into a well-spread number (splitmix64's finaliser).
func hash(a, b int) uint64 {
	x := uint64(a)*0x9e3779b97f4a7c15 + uint64(b) + 1
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (g *generated) job(i int) Job {
	org, work := genOrgs[i%len(genOrgs)], genWork[i/len(genOrgs)%len(genWork)]
	j := Job{ID: genJobID(i), Name: fmt.Sprintf("%s %s %05d", org, work, i), Type: JobTypeBackup,
		RepositoryID: genRepoIDs[i%len(genRepoIDs)], OrganizationID: fmt.Sprintf("0e9a0000-0000-4000-8000-%012x", i%len(genOrgs)),
		Schedule: SchedulePeriodically, NextRun: g.start(i, 0).Add(genInterval)}
	if i%10 == 9 {
		j.Type, j.Name = JobTypeCopy, j.Name+" (copy)"
	}
	return j
}

// start of job i's r-th newest session; jobs start at different minutes past the hour.
func (g *generated) start(i, r int) time.Time {
	return g.base.Add(-time.Duration(r)*genInterval - 45*time.Minute - time.Duration(i%15)*time.Minute)
}

// rank is the age order (0 newest) of the session at list position k; position is its inverse.
func (g *generated) rank(k int) int {
	if g.perJob <= 1 {
		return 0
	}
	return (k*g.mult + g.shift) % g.perJob
}

func (g *generated) position(r int) int {
	if g.perJob <= 1 {
		return 0
	}
	return ((r - g.shift + g.perJob) % g.perJob) * g.inv % g.perJob
}

var genReasons = []struct{ status, msg string }{
	{StatusFailed, "Failed to back up mailbox Finance (finance@%s.onmicrosoft.com): Mailbox not found. The specified object was not found in the store. (ErrorNonExistentMailbox)"},
	{StatusFailed, "Failed to process site https://%s.sharepoint.com/sites/Legal: The remote server returned an error: (401) Unauthorized."},
	{StatusWarning, "Processing OneDrive of user adele.vance@%s.onmicrosoft.com finished with warning: 3 items were skipped because they exceed the maximum file size"},
	{StatusWarning, "Microsoft 365 throttled requests for organization %s.onmicrosoft.com; processing was slowed down (Retry-After: 120)"},
}

// session builds the session at list position k of job i as it is at the generation time;
// advance brings a running one up to the clock.
func (g *generated) session(i, k int, withLog bool) JobSession {
	r := g.rank(k)
	h := hash(i, r)
	created := g.start(i, r)
	objects := int64(100 + h%5000)
	took := time.Duration(2+h%40) * time.Minute
	js := JobSession{ID: genSessionID(i, k), JobID: genJobID(i), CreationTime: created, EndTime: created.Add(took),
		Status: StatusSuccess, RepositoryID: genRepoIDs[i%len(genRepoIDs)], ProxyID: genProxyIDs[i%len(genProxyIDs)],
		Progress: 100, ProcessedObjects: objects, TransferredBytes: objects * 48 << 10, Bottleneck: "Source"}
	if i%10 == 9 {
		js.JobType = JobTypeCopy
	}
	js.ProcessingRateBytesPS = js.TransferredBytes / int64(took.Seconds())
	js.ProcessingRateItemsPS = objects / int64(took.Seconds())
	reason := -1
	switch h % 60 {
	case 0, 1:
		reason = int(h/60) % 2
	case 2, 3, 4:
		reason = 2 + int(h/60)%2
	case 5:
		js.Status = StatusStopped
	}
	if !withLog {
		// Lists need no log; the status and details are all that the reason decides.
		if reason >= 0 {
			js.Status, js.Details = genReasons[reason].status, genDetails[genReasons[reason].status]
		}
		if r == 0 && g.runningEvery > 0 && i%g.runningEvery == 0 {
			g.running(&js, created)
		}
		return js
	}
	org := genOrgs[i%len(genOrgs)]
	log := []LogItem{{Type: LogSuccess, Message: "Job started at " + vbTime(created), CreationTime: created}}
	// A log ends with its reason, the last Error or Warning, or says the job finished.
	end := LogItem{Type: LogSuccess, Message: "Job finished at " + vbTime(js.EndTime), CreationTime: js.EndTime}
	if reason >= 0 {
		rs := genReasons[reason]
		js.Status, js.Details = rs.status, genDetails[rs.status]
		typ := map[string]string{StatusFailed: LogError, StatusWarning: LogWarning}[rs.status]
		end = LogItem{Type: typ, Message: fmt.Sprintf(rs.msg, org), CreationTime: js.EndTime}
	}
	if r == 0 && g.runningEvery > 0 && i%g.runningEvery == 0 {
		g.running(&js, created)
		end = LogItem{Type: LogSuccess, Message: "Job finished at " + vbTime(js.FinishAt), CreationTime: js.FinishAt}
	}
	for n, it := range append(log, end) {
		it.ID, it.USN = fmt.Sprintf("%08x-1065-4000-8000-%08x%04x", i, k, n), int64(n+1)
		it.EndTime = it.CreationTime
		js.Log = append(js.Log, it)
	}
	return js
}

var genDetails = map[string]string{StatusFailed: "Processing finished with errors", StatusWarning: "Processing finished with warnings"}

// running turns a generated session into one that runs for twelve hours from created.
func (g *generated) running(js *JobSession, created time.Time) {
	js.Status, js.EndTime, js.Details = StatusRunning, time.Time{}, ""
	js.Progress, js.ProcessedObjects, js.TransferredBytes, js.ProcessingRateBytesPS, js.ProcessingRateItemsPS = 0, 0, 0, 0, 0
	js.FinishAt, js.FinalStatus = created.Add(12*time.Hour), StatusSuccess
	js.ProgressPerSecond, js.ObjectsPerSecond, js.BytesPerSecond = 0.002, 2, 3<<20
}

// candidates are the list positions of job i's sessions that can be created after after and
// before before (zero: unbounded), in list order, plus the positions in also (sessions that
// were changed and may have moved). Creation times follow from the rank, so a client asking
// for what is new since its last scrape costs what is new, not the whole history.
func (g *generated) candidates(i int, after, before time.Time, also []int) []int {
	lo, hi := 0, g.perJob
	start := g.start(i, 0)
	if !after.IsZero() {
		// created after: start - r*interval > after, r < (start-after)/interval
		d := start.Sub(after)
		n := int(d / genInterval)
		if d%genInterval != 0 {
			n++
		}
		hi = min(hi, max(0, n))
	}
	if !before.IsZero() {
		// created before: start - r*interval < before, r > (start-before)/interval
		if d := start.Sub(before); d >= 0 {
			lo = int(d/genInterval) + 1
		}
	}
	var ks []int
	if hi-lo < g.perJob/2 {
		for r := lo; r < hi; r++ {
			ks = append(ks, g.position(r))
		}
	} else {
		for k := range g.perJob {
			if r := g.rank(k); r >= lo && r < hi {
				ks = append(ks, k)
			}
		}
	}
	for _, k := range also {
		if r := g.rank(k); r < lo || r >= hi {
			ks = append(ks, k)
		}
	}
	sort.Ints(ks)
	return ks
}
