package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// JobResult is one job in a snapshot: the job as listed, and what the exporter knows of its
// sessions, kept between scrapes (a job's history is read once, then only what is new).
type JobResult struct {
	Job vb365.Job
	// LastFinished is the job's latest finished session; nil when none is on record.
	LastFinished *vb365.JobSession
	// Running is the session running (or queued) now; nil when none.
	Running *vb365.JobSession
	// LastSuccessEnd is the end of the latest session that ended Success or Warning; zero
	// when the server keeps none.
	LastSuccessEnd time.Time
	// Log is what LastFinished's log says when it ended Failed or Warning; nil until read.
	Log *SessionLog
	// Truncated is set when the job's session list was longer than one read takes
	// (maxJobSessionPages pages): what is shown comes from the part read.
	Truncated bool
	// Err is why the job's sessions could not be read in this scrape; what is shown is what
	// earlier scrapes read.
	Err error
}

// WantsLog reports whether the latest finished session's log says why it ended: it ended
// Failed or Warning. Log stays nil until it has been read.
func (r *JobResult) WantsLog() bool {
	s := r.LastFinished
	return s != nil && (s.Status == vb365.StatusFailed || s.Status == vb365.StatusWarning)
}

// StatusRank orders jobs by their last status for people, who look at the failing ones
// first: Failed, then Warning, then the rest.
func StatusRank(status string) int {
	switch status {
	case vb365.StatusFailed:
		return 0
	case vb365.StatusWarning:
		return 1
	}
	return 2
}

// maxJobSessionPages bounds the pages of one job's session list read per scrape, so that a
// job with a million sessions costs a bounded time and memory (only the maxima are kept of
// what is read). From v7 on, the next scrape goes on from the newest session read.
const maxJobSessionPages = 20

// sinceSlack is how far before the newest session seen a job's next list starts, for clocks
// and the server's rounding: the sessions read twice are folded in again, harmlessly.
const sinceSlack = time.Minute

// jobState is what the exporter keeps of one job between reads.
type jobState struct {
	JobResult
	// lastRun and lastStatus are the job's when its sessions were last listed: a change
	// says it ran since.
	lastRun    time.Time
	lastStatus string
	// listed is false until the job's sessions have been listed, and after its running
	// session vanished.
	listed bool
	// newest is the creation time of the newest session seen: the next list starts there.
	newest time.Time
}

func maxJobs(cfg *config.ServerConfig) int { return bound(cfg.MaxJobs, config.DefaultMaxJobs) }

// readJobs reads the job list on every scrape and, per job, only what changed: a running
// session is followed by its ID, and the job's sessions are listed only when the job says
// it ran since they last were (lastRun, or a lastStatus its known sessions do not explain),
// from the newest one seen. So a warm scrape of jobs that did not run costs one request.
func (srv *Server) readJobs(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) (conditions, error) {
	jobs, st, err := srv.client.Jobs(ctx, maxJobs(cfg))
	calls.add(err)
	if err != nil {
		return kindProblems(config.CollectJobs, err, st, maxJobs(cfg))
	}
	srv.mu.Lock()
	old := srv.install.jobs
	srv.mu.Unlock()
	states := make([]*jobState, len(jobs))
	idx := make([]int, len(jobs))
	for i, j := range jobs {
		s := &jobState{}
		if o := old[j.ID]; o != nil {
			cp := *o // the last snapshot still shows the old one
			s = &cp
		}
		s.Job, s.Err, idx[i] = j, nil, i
		states[i] = s
	}
	v6 := cfg.APIVersion == "v6"
	each(ctx, cfg.MaxConcurrentRequests, idx, func(i int) {
		s := states[i]
		s.update(ctx, srv.client, calls, v6)
		if s.WantsLog() && (s.Log == nil || s.Log.Err != nil) && s.Err == nil {
			id := s.LastFinished.ID
			s.Log = srv.logs.read(ctx, "job session "+string(id), vb365.JobSessionLogPath(id), s.LastFinished.Status)
		}
	})

	kept := make(map[vb365.ID]*jobState, len(states))
	snap.Jobs, snap.JobsDropped = make([]JobResult, len(states)), st.Dropped
	var failed []vb365.ID
	for i, s := range states {
		kept[s.Job.ID] = s
		snap.Jobs[i] = s.JobResult
		if s.Truncated {
			snap.JobSessionsTruncated++
		}
		if s.Err != nil {
			if failed = append(failed, s.Job.ID); err == nil {
				err = s.Err
			}
		}
	}
	srv.mu.Lock()
	srv.install.jobs = kept // jobs no longer listed are forgotten
	srv.mu.Unlock()
	conds, _ := kindProblems(config.CollectJobs, nil, st, maxJobs(cfg))
	if len(failed) > 0 {
		err = fmt.Errorf("sessions of %d jobs not read (e.g. job %s): %w", len(failed), failed[0], err)
		if !vb365.IsClientWide(err) {
			conds["jobs: sessions: "+vb365.Reason(err)] = []any{"msg", "sessions of some jobs not read; what earlier scrapes read of them is shown",
				"reason", vb365.Reason(err), "jobs", len(failed), "err", err}
		}
	}
	if snap.JobSessionsTruncated > 0 {
		conds["jobs: session lists cut"] = []any{"msg", fmt.Sprintf("some jobs have more sessions than one scrape reads (%d pages of %d); their latest sessions are taken from the part read (see vb365_job_session_lists_truncated)", maxJobSessionPages, vb365.JobSessionPage),
			"jobs", snap.JobSessionsTruncated}
	}
	return conds, err
}

// update brings what is known of the job's sessions up to date: follows its running
// session, then lists its sessions when it ran since they last were.
func (s *jobState) update(ctx context.Context, c *vb365.Client, calls *outcomes, v6 bool) {
	if s.Running != nil {
		got, err := c.GetJobSession(ctx, s.Running.ID)
		calls.add(err)
		var apiErr *vb365.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
			s.Running, s.listed = nil, false
		case err != nil:
			s.Err = err
			return
		default:
			s.fold(*got)
		}
	}
	j := &s.Job
	if s.listed && j.LastRun.Equal(s.lastRun) && (j.LastStatus == s.lastStatus || s.explains(j.LastStatus)) {
		s.settle()
		return
	}
	var since time.Time
	if !v6 && !s.newest.IsZero() {
		since = s.newest.Add(-sinceSlack)
	}
	before := s.newest
	st, err := c.JobSessions(ctx, j.ID, since, maxJobSessionPages, s.fold)
	calls.add(err)
	if err != nil {
		s.Err = err
		return
	}
	s.settle()
	s.Truncated, s.lastRun, s.lastStatus = st.Truncated, j.LastRun, j.LastStatus
	// A cut list goes on from its newest session next time, where the version can say so
	// and the list moved on.
	s.listed = !st.Truncated || v6 || !s.newest.After(before)
}

// explains reports whether the sessions known account for the job's lastStatus.
func (s *jobState) explains(status string) bool {
	switch status {
	case "":
		return true
	case vb365.StatusRunning, vb365.StatusQueued:
		return s.Running != nil
	}
	return s.Running == nil && s.LastFinished != nil && s.LastFinished.Status == status
}

// fold takes one session into what is kept, whatever the order the server lists them in:
// only the maxima stay, so a job's whole history costs one session's memory.
func (s *jobState) fold(js vb365.JobSession) {
	if js.CreationTime.After(s.newest) {
		s.newest = js.CreationTime
	}
	if !js.Finished() {
		if r := s.Running; r == nil || r.ID == js.ID || js.CreationTime.After(r.CreationTime) {
			s.Running = &js
		}
		return
	}
	if s.Running != nil && s.Running.ID == js.ID {
		s.Running = nil
	}
	if (js.Status == vb365.StatusSuccess || js.Status == vb365.StatusWarning) && js.EndTime.After(s.LastSuccessEnd) {
		s.LastSuccessEnd = js.EndTime
	}
	if l := s.LastFinished; l == nil || later(&js, l) {
		if l == nil || l.ID != js.ID {
			s.Log = nil
		}
		s.LastFinished = &js
	}
}

// settle drops a running session that a later finished one shows to be stale: a server
// that never closed it must not have it followed forever.
func (s *jobState) settle() {
	if r, l := s.Running, s.LastFinished; r != nil && l != nil && !r.CreationTime.After(l.CreationTime) {
		s.Running = nil
	}
}

// later orders finished sessions by creation, then end, then ID.
func later(a, b *vb365.JobSession) bool {
	switch {
	case !a.CreationTime.Equal(b.CreationTime):
		return a.CreationTime.After(b.CreationTime)
	case !a.EndTime.Equal(b.EndTime):
		return a.EndTime.After(b.EndTime)
	}
	return a.ID > b.ID
}
