package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/dashboards/metriccheck"
)

const (
	jobsTable    = "Backup jobs"
	runningTable = "Running sessions"
	notSucceeded = "Not succeeded in 26h"
)

func loadInstallation(t *testing.T) *Dashboard {
	t.Helper()
	d, err := LoadFile(InstallationFileName)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// panelsUsing returns the panels of type typ whose queries select every one of metrics.
func panelsUsing(d *Dashboard, typ string, metrics ...string) []Panel {
	var out []Panel
	for _, p := range d.AllPanels() {
		var used []string
		for _, q := range p.Targets {
			names, err := metriccheck.MetricNames(metriccheck.Expand(q.Expr, vars))
			if err == nil {
				used = append(used, names...)
			}
		}
		if p.Type == typ && !slices.ContainsFunc(metrics, func(m string) bool { return !slices.Contains(used, m) }) {
			out = append(out, p)
		}
	}
	return out
}

// Issue 17 point 5 asks for this content; a refactoring that drops a part must fail.
func TestInstallationDashboardHasRequiredPanels(t *testing.T) {
	d := loadInstallation(t)
	tables := panelsUsing(d, "table", "vb365_job_info", "vb365_job_last_session_status",
		"vb365_job_last_session_end_timestamp_seconds", "vb365_job_last_session_duration_seconds",
		"vb365_job_last_session_transferred_bytes", "vb365_job_last_session_reason_info")
	if len(tables) != 1 || tables[0].Title != jobsTable {
		t.Errorf("want one table %q of each job's last status, end, duration, transferred bytes and reason, found %d", jobsTable, len(tables))
	} else {
		exclude, rename := organize(t, tables[0])
		for field, col := range map[string]string{"status": "Last status", "message": "Reason", "Value #C": "Ended",
			"Value #D": "Duration", "Value #E": "Transferred", "name": "Job"} {
			if rename[field] != col || exclude[field] {
				t.Errorf("%s: %s must be shown as %q; rename %v, exclude %v", jobsTable, field, col, rename, exclude)
			}
		}
		body, _ := json.Marshal(tables[0])
		for _, want := range []string{`"dtdurations"`, `"dateTimeAsIso"`, `"bytes"`, `"color-background"`, `"Failed"`, `"merge"`} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("%s lacks %s (durations, times and sizes in human units, status colours, join)", jobsTable, want)
			}
		}
	}
	if p := panelsUsing(d, "table", "vb365_job_running_session_progress", "vb365_job_running_session_duration_seconds",
		"vb365_job_running_session_transferred_bytes", "vb365_job_running_session_processing_rate_bytes_per_second", "vb365_job_info"); len(p) != 1 || p[0].Title != runningTable {
		t.Errorf("want one table %q of the running sessions, named", runningTable)
	}
	for _, want := range []struct {
		typ     string
		metrics []string
	}{
		{"stat", []string{"vb365_license_expiration_timestamp_seconds"}},
		{"gauge", []string{"vb365_license_used_users", "vb365_license_licensed_users"}},
		{"table", []string{"vb365_license_info", "vb365_license_status", "vb365_license_expiration_timestamp_seconds"}},
		{"bargauge", []string{"vb365_repository_free_bytes", "vb365_repository_capacity_bytes", "vb365_repository_info"}},
		{"table", []string{"vb365_repository_info", "vb365_repository_capacity_bytes", "vb365_repository_free_bytes", "vb365_repository_out_of_sync"}},
		{"table", []string{"vb365_proxy_info", "vb365_proxy_status", "vb365_proxy_maintenance_mode"}},
		{"state-timeline", []string{"vb365_job_last_session_status", "vb365_job_info"}},
		{"state-timeline", []string{"vb365_collector_success"}},
	} {
		if len(panelsUsing(d, want.typ, want.metrics...)) == 0 {
			t.Errorf("no %s panel of %v", want.typ, want.metrics)
		}
	}
	for _, st := range []string{"Failed", "Warning", "Success"} {
		if !bytes.Contains(mustJSON(t, panelsUsing(d, "stat", "vb365_job_last_session_status")), []byte(`status=\"`+st+`\"`)) {
			t.Errorf("no stat panel counts jobs whose last session ended %s", st)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jobLabels(server, id string) string {
	return fmt.Sprintf(`job="vb365",instance="e:9925",server=%q,job_id=%q`, server, id)
}

func installationQuery(t *testing.T, title, refID string) string {
	t.Helper()
	for _, q := range loadInstallation(t).Queries() {
		if q.Panel == title && q.RefID == refID {
			return metriccheck.Expand(q.Expr, vars)
		}
	}
	t.Fatalf("no panel %q with query %s", title, refID)
	return ""
}

// The jobs table lists every job, with its last status, and a job without a finished
// session on record all the same (no status): the table must not hide a job that never ran.
func TestJobsTableStatusQuery(t *testing.T) {
	const ran, never = "0b000000-0000-4000-8000-000000000001", "0b000000-0000-4000-8000-000000000002"
	info, status := "vb365_job_info{", "vb365_job_last_session_status{"
	evalPanel(t, installationQuery(t, jobsTable, "A"), map[string]string{
		info + jobLabels("prod", ran) + `,name="Exchange daily",backup_type="EntireOrganization"}`: "1",
		info + jobLabels("prod", never) + `,name="New tenant",backup_type="SelectedItems"}`:        "1",
		status + jobLabels("prod", ran) + `,status="Failed"}`:                                      "1",
		status + jobLabels("prod", ran) + `,status="Success"}`:                                     "0",
	}, []sample{
		{fmt.Sprintf(`{server="prod",job_id=%q,name="Exchange daily",status="Failed"}`, ran), 1},
		{fmt.Sprintf(`{server="prod",job_id=%q,name="New tenant"}`, never), 1},
	})
}

// The stat counts the enabled jobs VB365JobNotSucceededRecently is about: a success older
// than 26h, or none on record; never a disabled job or a recent success.
func TestNotSucceededStatQuery(t *testing.T) {
	en, last := "vb365_job_enabled{", "vb365_job_last_success_timestamp_seconds{"
	id := func(n int) string { return fmt.Sprintf("0b000000-0000-4000-8000-%012d", n) }
	// promtool evaluates at time 0: a success at -100000 s is 27.8h old.
	evalPanel(t, installationQuery(t, notSucceeded, "A"), map[string]string{
		en + jobLabels("prod", id(1)) + "}": "1", last + jobLabels("prod", id(1)) + "}": "-100000",
		en + jobLabels("prod", id(2)) + "}": "1",
		en + jobLabels("prod", id(3)) + "}": "1", last + jobLabels("prod", id(3)) + "}": "-3600",
		en + jobLabels("prod", id(4)) + "}": "0",
		en + jobLabels("prod", id(5)) + "}": "0", last + jobLabels("prod", id(5)) + "}": "-100000",
	}, []sample{{"{}", 2}})
}
