package sessions

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// JobsOptions are the flags of `vb365_exporter jobs` (jobs list).
type JobsOptions struct {
	// Server names the configured server to ask; it may be empty when the config has one.
	Server string
	// Timeout bounds the whole command; 0 is DefaultTimeout.
	Timeout time.Duration
	// Output is table or json (the flag parser allows no other).
	Output string
}

// JobLogOptions are the argument and flags of `vb365_exporter jobs log JOB_ID`: the log of
// the job's latest finished session, with the flags of `sessions log`.
type JobLogOptions struct {
	JobID   string
	Timeout time.Duration
	// LogOptions' SessionID is not used: the session is the job's latest finished one, and
	// its parsed ID is the job's.
	LogOptions
}

// Validate checks the job ID and the flags before any request is made.
func (o *JobLogOptions) Validate() error {
	return o.validate("job", o.JobID, "`vb365_exporter jobs` lists them")
}

// readJobs reads the server's jobs as the exporter does (the same reader, bounds, scrubbing
// and choice of each job's latest finished session and reason), reading no other kind.
func readJobs(ctx context.Context, cfg *config.Config, name string) (*config.ServerConfig, *server.Server, []server.JobResult, error) {
	srv, remote, err := connect(cfg, name, func(only *config.ServerConfig) {
		only.Sessions, only.Discovery, only.Collect = nil, nil, []string{config.CollectJobs}
	})
	if err != nil {
		return nil, nil, nil, err
	}
	snap := remote.Snapshot(ctx)
	err = snap.Err
	for _, c := range snap.Collectors {
		// A log that could not be read is said in its job's reason.
		if c.Name == config.CollectJobs {
			err = cmp.Or(err, c.Err)
		}
	}
	if err != nil {
		remote.Close()
		return nil, nil, nil, describeError(srv, "cannot read the jobs", err)
	}
	return srv, remote, snap.Jobs, nil
}

// Jobs prints the jobs of one configured server, Failed and Warning first, with their latest
// finished session: status, end and the reason from its log.
func Jobs(ctx context.Context, cfg *config.Config, o JobsOptions, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(o.Timeout, DefaultTimeout))
	defer cancel()
	_, remote, jobs, err := readJobs(ctx, cfg, o.Server)
	if err != nil {
		return err
	}
	remote.Close()
	sort.SliceStable(jobs, func(i, j int) bool {
		return cmp.Or(server.StatusRank(lastStatus(&jobs[i]))-server.StatusRank(lastStatus(&jobs[j])), cmp.Compare(jobs[i].Job.Name, jobs[j].Job.Name)) < 0
	})
	if o.Output == "json" {
		return writeJobsJSON(stdout, jobs)
	}
	return writeTable(stdout, "No jobs.", "JOB ID\tNAME\tENABLED\tLAST STATUS\tENDED\tRUNNING\tREASON", len(jobs), func(i int) []string {
		r := &jobs[i]
		end, running := "-", "-"
		if s := r.LastFinished; s != nil {
			end = s.EndTime.Format(cliTimeLayout)
		}
		if s := r.Running; s != nil {
			running = fmt.Sprintf("%s %d%%", s.Status, s.Progress)
		}
		return []string{string(r.Job.ID), r.Job.Name, map[bool]string{true: "yes", false: "no"}[r.Job.Enabled], cmp.Or(lastStatus(r), "-"), end, running, reason(r)}
	})
}

func lastStatus(r *server.JobResult) string {
	if r.LastFinished == nil {
		return ""
	}
	return r.LastFinished.Status
}

// reason is what the log of a Failed or Warning session says, or why nothing is known.
func reason(r *server.JobResult) string {
	switch {
	case !r.WantsLog():
		return ""
	case r.Log == nil:
		return "(log not read)"
	case r.Log.Reason == nil:
		return "(no error or warning in its log)"
	case r.Log.Reason.Type == "":
		return r.Log.Reason.Message
	}
	return r.Log.Reason.Type + ": " + r.Log.Reason.Message
}

// jsonJob is one element of `jobs --output json`; docs/flags-and-endpoints.md documents the field names.
type jsonJob struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Enabled       bool       `json:"enabled"`
	LastStatus    string     `json:"lastStatus"`
	LastSessionID string     `json:"lastSessionId"`
	Ended         *time.Time `json:"ended"`
	LastSuccess   *time.Time `json:"lastSuccess"`
	Running       bool       `json:"running"`
	Reason        string     `json:"reason"`
}

func writeJobsJSON(w io.Writer, jobs []server.JobResult) error {
	out := make([]jsonJob, len(jobs))
	for i := range jobs {
		r := &jobs[i]
		j := jsonJob{ID: string(r.Job.ID), Name: r.Job.Name, Enabled: r.Job.Enabled, LastStatus: lastStatus(r),
			Running: r.Running != nil, Reason: reason(r)}
		if s := r.LastFinished; s != nil {
			j.LastSessionID, j.Ended = string(s.ID), &s.EndTime
		}
		if !r.LastSuccessEnd.IsZero() {
			j.LastSuccess = &r.LastSuccessEnd
		}
		out[i] = j
	}
	return writeJSON(w, out)
}

// JobLog prints the log of the job's latest finished session, oldest first.
func JobLog(ctx context.Context, cfg *config.Config, o JobLogOptions, stdout io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(o.Timeout, DefaultTimeout))
	defer cancel()
	srv, remote, jobs, err := readJobs(ctx, cfg, o.Server)
	if err != nil {
		return err
	}
	defer remote.Close()
	for _, r := range jobs {
		if r.Job.ID != o.id {
			continue
		}
		if r.LastFinished == nil {
			return fmt.Errorf("job %s (%s) has no finished session on record", o.id, printable(r.Job.Name))
		}
		id := r.LastFinished.ID
		return printLog(ctx, srv, remote, vb365.JobSessionLogPath(id), "job session "+string(id), &o.LogOptions, stdout)
	}
	return fmt.Errorf("server %q has no job %s (`vb365_exporter jobs` lists them)", srv.Name, o.id)
}
