package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// The demo's jobs, in every API version: Failed and Warning first with the reason from their
// latest finished session's log, the running job marked, a job that never ran without a status.
func TestJobsEveryVersion(t *testing.T) {
	_, cfg := startDemo(t)
	for _, v := range []string{"v6", "v7", "v8"} {
		t.Run(v, func(t *testing.T) {
			var out bytes.Buffer
			if err := Jobs(context.Background(), cfg, JobsOptions{Server: v, Output: "json"}, &out); err != nil {
				t.Fatal(err)
			}
			var jobs []jsonJob
			if err := json.Unmarshal(out.Bytes(), &jobs); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			byID := map[string]jsonJob{}
			for _, j := range jobs {
				byID[j.ID] = j
			}
			if len(jobs) < 3 || jobs[0].ID != simulator.DemoJobFailedID || jobs[1].ID != simulator.DemoJobWarningID {
				t.Fatalf("want the Failed, then the Warning job first: %+v", jobs)
			}
			f := jobs[0]
			// The reason is the metric's: collapsed, scrubbed and cut at 200 bytes.
			if f.LastStatus != "Failed" || f.LastSessionID != simulator.DemoJobFailedSession || f.Ended == nil ||
				!strings.HasPrefix(f.Reason, "Error: "+simulator.DemoJobFailedReason[:100]) || len(f.Reason) > len("Error: ")+200 {
				t.Errorf("failed job: %+v", f)
			}
			if w := jobs[1]; w.LastStatus != "Warning" || !strings.HasPrefix(w.Reason, "Warning: "+simulator.DemoJobWarningReason[:100]) {
				t.Errorf("warning job: %+v", w)
			}
			if r := byID[simulator.DemoJobRunningID]; !r.Running {
				t.Errorf("running job: %+v", r)
			}
			if n := byID[simulator.DemoJobNeverRunID]; n.LastStatus != "" || n.Ended != nil || n.LastSessionID != "" || n.Reason != "" {
				t.Errorf("job that never ran: %+v", n)
			}
			if d := byID[simulator.DemoJobDisabledID]; d.Enabled || d.Name != "Northwind Exchange (legacy)" {
				t.Errorf("disabled job: %+v", d)
			}
		})
	}
}

func TestJobsTable(t *testing.T) {
	_, cfg := startDemo(t)
	var out bytes.Buffer
	if err := Jobs(context.Background(), cfg, JobsOptions{Server: "v8"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "JOB ID NAME ENABLED LAST STATUS ENDED RUNNING REASON" {
		t.Errorf("header %q", lines[0])
	}
	if len(lines) < 3 || !strings.HasPrefix(lines[1], simulator.DemoJobFailedID+"  Contoso Exchange daily") ||
		!strings.Contains(lines[1], " Failed ") || !strings.Contains(lines[1], "Error: Failed to connect to Exchange Online") {
		t.Errorf("first row is not the failed job with its reason:\n%s", out.String())
	}
	for _, l := range lines {
		if strings.Contains(l, simulator.DemoJobRunningID) && !strings.Contains(l, "Running ") {
			t.Errorf("running job not marked: %q", l)
		}
	}
}

// `jobs log` prints the log of the job's latest finished session: the Failed one's whole
// message, not the reason cut at 200 bytes.
func TestJobLog(t *testing.T) {
	_, cfg := startDemo(t)
	for _, v := range []string{"v6", "v7", "v8"} {
		var out bytes.Buffer
		o := JobLogOptions{JobID: strings.ToUpper(simulator.DemoJobFailedID), LogOptions: LogOptions{Server: v, Output: "json", Types: "error"}}
		if err := JobLog(context.Background(), cfg, o, &out); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		var items []loggedItem
		if err := json.Unmarshal(out.Bytes(), &items); err != nil {
			t.Fatalf("%s: output is not JSON: %v\n%s", v, err, out.String())
		}
		if len(items) == 0 || items[len(items)-1].Type != "Error" || items[len(items)-1].Message != simulator.DemoJobFailedReason {
			t.Errorf("%s: log %+v, want its last Error to be %q", v, items, simulator.DemoJobFailedReason)
		}
	}
}

func TestJobLogErrors(t *testing.T) {
	_, cfg := startDemo(t)
	for _, tc := range []struct{ id, want string }{
		{"not-a-job", `job ID "not-a-job" is not a UUID`},
		{simulator.DemoJobNeverRunID, "has no finished session on record"},
		{"0b000000-0000-4000-8000-00000000dead", `server "v7" has no job 0b000000-0000-4000-8000-00000000dead`},
	} {
		err := JobLog(context.Background(), cfg, JobLogOptions{JobID: tc.id, LogOptions: LogOptions{Server: "v7"}}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("jobs log %s: %v, want %q", tc.id, err, tc.want)
		}
	}
}

// A job name from the server is one line of printable text in the table: no escape sequence
// reaches the terminal, no newline forges a row.
func TestJobsTablePrintable(t *testing.T) {
	sim, cfg := startDemo(t)
	if err := sim.AddJob(simulator.Job{ID: "0b000000-0000-4000-8000-0000000000e1", Name: "Evil\x1b]0;pwned\x07\n0b000000 Forged row\u2028x"}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Jobs(context.Background(), cfg, JobsOptions{Server: "v7"}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\x07\u2028") {
		t.Errorf("control characters reached the table:\n%q", out.String())
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "0b000000 Forged") {
			t.Errorf("a job name forged a row:\n%s", out.String())
		}
	}
}
