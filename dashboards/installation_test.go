package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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

// Issue 21 point 4: the organizations view (users, protected share, storage, last backup)
// and restores per organization over time.
func TestInstallationDashboardHasOrganizationsAndRestores(t *testing.T) {
	d := loadInstallation(t)
	for _, want := range []struct {
		typ     string
		metrics []string
	}{
		{"table", []string{"vb365_organization_info", "vb365_organization_users", "vb365_organization_licensed_users",
			"vb365_organization_new_users", "vb365_organization_used_bytes", "vb365_organization_object_storage_used_bytes",
			"vb365_organization_last_backup_timestamp_seconds", "vb365_organization_users_last_read_timestamp_seconds"}},
		{"stat", []string{"vb365_organization_users"}},
		{"timeseries", []string{"vb365_organization_used_bytes", "vb365_organization_info"}},
		{"bargauge", []string{"vb365_organization_last_backup_timestamp_seconds", "vb365_organization_info"}},
		{"timeseries", []string{"vb365_restore_sessions_total"}},
		{"table", []string{"vb365_restore_sessions_recent"}},
		{"table", []string{"vb365_restore_sessions_running"}},
	} {
		if len(panelsUsing(d, want.typ, want.metrics...)) == 0 {
			t.Errorf("no %s panel of %v", want.typ, want.metrics)
		}
	}
	// Restores over time come from the counter, by organization: the recent gauge is a
	// window, so its samples over time would count one restore many times.
	var byOrg bool
	for _, q := range d.Queries() {
		byOrg = byOrg || strings.Contains(q.Expr, "sum by (server, organization) (increase(vb365_restore_sessions_total{")
	}
	if !byOrg {
		t.Error("no panel of restores per organization from increase(vb365_restore_sessions_total)")
	}
	// The running restores' operator is shown; the counters have none to show.
	if body := mustJSON(t, panelsUsing(d, "table", "vb365_restore_sessions_running")); !bytes.Contains(body, []byte(`"initiated_by":"Initiated by"`)) {
		t.Error("the running restores table does not show who started them")
	}
}

func orgLabels(server, id string) string {
	return fmt.Sprintf(`job="vb365",instance="e:9925",server=%q,organization_id=%q`, server, id)
}

// The protected share is protected / all counted users per organization; an organization
// without counted users has none (not a division by zero), and one with only unprotected
// users has 0.
func TestOrganizationsTableProtectedShare(t *testing.T) {
	users := "vb365_organization_users{"
	id := func(n int) string { return fmt.Sprintf("0a000000-0000-4000-8000-%012d", n) }
	evalPanel(t, installationQuery(t, "Organizations", "D"), map[string]string{
		users + orgLabels("prod", id(1)) + `,state="protected"}`:   "90",
		users + orgLabels("prod", id(1)) + `,state="unprotected"}`: "10",
		users + orgLabels("prod", id(2)) + `,state="protected"}`:   "0",
		users + orgLabels("prod", id(2)) + `,state="unprotected"}`: "0",
		users + orgLabels("prod", id(3)) + `,state="protected"}`:   "0",
		users + orgLabels("prod", id(3)) + `,state="unprotected"}`: "4",
	}, []sample{
		{fmt.Sprintf(`{server="prod",organization_id=%q}`, id(1)), 0.9},
		{fmt.Sprintf(`{server="prod",organization_id=%q}`, id(3)), 0},
	})
}

// The stat counts what VB365OrganizationNotBackedUp warns about: a last backup older than
// 26h; never an organization without a last backup time, and 0 (not "No data") when none.
func TestOrganizationsNotBackedUpStat(t *testing.T) {
	last := "vb365_organization_last_backup_timestamp_seconds{"
	id := func(n int) string { return fmt.Sprintf("0a000000-0000-4000-8000-%012d", n) }
	evalPanel(t, installationQuery(t, "Not backed up in 26h", "A"), map[string]string{
		last + orgLabels("prod", id(1)) + "}":                                                   "-100000",
		last + orgLabels("prod", id(2)) + "}":                                                   "-93600",
		last + orgLabels("prod", id(3)) + "}":                                                   "-3600",
		"vb365_organization_info{" + orgLabels("prod", id(4)) + `,name="New",type="Office365"}`: "1",
	}, []sample{{"{}", 1}})
	evalPanel(t, installationQuery(t, "Not backed up in 26h", "A"), map[string]string{
		last + orgLabels("prod", id(3)) + "}": "-3600",
	}, []sample{{"{}", 0}})
}
