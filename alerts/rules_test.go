// Package alerts holds the Prometheus alerting rules for vb365_exporter; its
// tests tie the rules to the metrics the exporter really emits and run
// promtool's own checks and unit tests.
package alerts

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/dashboards/metriccheck"
)

const rulesFile = "vb365_exporter.rules.yml"

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) != 1 {
		t.Fatalf("%d rule groups, the issue asks for one", len(f.Groups))
	}
	return f.Groups[0].Rules
}

// Every selector must name a metric the collector emits (or a series the file
// records itself) with labels it has, so a rename cannot mute an alert.
func TestRulesUseExporterMetrics(t *testing.T) {
	known, err := metriccheck.ExporterMetrics()
	if err != nil {
		t.Fatal(err)
	}
	// The exporter's own gauges, served beside the collector's, and Prometheus' up.
	reg := prometheus.NewRegistry()
	config.NewSafeConfig(reg)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		known[mf.GetName()] = metriccheck.Metric{}
	}
	known["up"] = metriccheck.Metric{}
	rules := loadRules(t)
	for _, r := range rules {
		if r.Record != "" {
			known[r.Record] = metriccheck.Metric{}
		}
	}
	for _, r := range rules {
		for _, err := range metriccheck.Check(r.Expr, known) {
			t.Errorf("rule %s%s: %v", r.Record, r.Alert, err)
		}
	}
}

func TestRequiredAlerts(t *testing.T) {
	want := map[string]string{
		"VB365DataRetrievalSessionFailed":   "critical",
		"VB365DataRetrievalSessionWarning":  "warning",
		"VB365DataRetrievalSessionStalled":  "warning",
		"VB365ServerDown":                   "critical",
		"VB365SessionScrapeFailing":         "warning",
		"VB365DataRetrievalExpiringSoon":    "warning",
		"VB365JobFailed":                    "critical",
		"VB365JobWarning":                   "warning",
		"VB365JobNotSucceededRecently":      "warning",
		"VB365LicenseExpiringSoon":          "warning",
		"VB365LicenseUsersNearLimit":        "warning",
		"VB365RepositoryAlmostFull":         "warning",
		"VB365ProxyOffline":                 "warning",
		"VB365RestoreFailed":                "warning",
		"VB365RestoreBurst":                 "warning",
		"VB365OrganizationUsersUnprotected": "warning",
		"VB365OrganizationNotBackedUp":      "warning",
	}
	got := map[string]rule{}
	for _, r := range loadRules(t) {
		if r.Alert != "" {
			got[r.Alert] = r
		}
	}
	for name, sev := range want {
		r, ok := got[name]
		if !ok {
			t.Errorf("alert %s missing", name)
			continue
		}
		if r.Labels["severity"] != sev {
			t.Errorf("%s: severity %q, want %q", name, r.Labels["severity"], sev)
		}
		if r.Annotations["summary"] == "" || !strings.Contains(r.Annotations["description"], "$labels.server") {
			t.Errorf("%s: needs a summary and a description naming the server", name)
		}
	}
	for _, name := range []string{"VB365DataRetrievalSessionFailed", "VB365DataRetrievalSessionWarning", "VB365DataRetrievalSessionStalled"} {
		r := got[name]
		if !strings.Contains(r.Expr, "vb365_data_retrieval_session_info") || !strings.Contains(r.Annotations["description"], "$labels.name") {
			t.Errorf("%s: must join vb365_data_retrieval_session_info and name the session in its description", name)
		}
	}
	if r := got["VB365DataRetrievalExpiringSoon"]; !strings.Contains(r.Expr, "vb365_data_retrieval_info") ||
		!strings.Contains(r.Annotations["description"], "$labels.name") {
		t.Error("VB365DataRetrievalExpiringSoon: must join vb365_data_retrieval_info and name the retrieval in its description")
	}
	for _, name := range []string{"VB365DataRetrievalSessionFailed", "VB365DataRetrievalSessionWarning", "VB365DataRetrievalExpiringSoon"} {
		if !strings.Contains(got[name].Annotations["description"], "humanizeDuration") {
			t.Errorf("%s: description must say how long ago the session ended (or how long the data has left)", name)
		}
	}
	// The reason goes into the description only: a label would make a reason that shows
	// up or changes later a new alert (resolve, then page again). An empty label is no
	// label in Prometheus, so the rule blanks the two the join brings in.
	for _, name := range []string{"VB365DataRetrievalSessionFailed", "VB365DataRetrievalSessionWarning"} {
		r := got[name]
		if !strings.Contains(r.Expr, "vb365_data_retrieval_session_reason_info") ||
			!strings.Contains(r.Expr, "group_left(log_type, message)") ||
			!strings.Contains(r.Annotations["description"], "$labels.message") {
			t.Errorf("%s: must join vb365_data_retrieval_session_reason_info and quote its message in the description", name)
		}
		for _, l := range []string{"message", "log_type"} {
			if v, ok := r.Labels[l]; !ok || v != "" {
				t.Errorf("%s: label %s must be set to \"\" so the reason never becomes part of the alert's identity", name, l)
			}
		}
	}
	// A job alert names the job; the two on its last session quote the reason the same way.
	for _, name := range []string{"VB365JobFailed", "VB365JobWarning", "VB365JobNotSucceededRecently"} {
		r := got[name]
		if !strings.Contains(r.Expr, "group_left(name)") || !strings.Contains(r.Expr, "vb365_job_info") ||
			!strings.Contains(r.Annotations["summary"], "$labels.name") {
			t.Errorf("%s: must join vb365_job_info and name the job in its summary", name)
		}
	}
	for _, name := range []string{"VB365JobFailed", "VB365JobWarning"} {
		r := got[name]
		if !strings.Contains(r.Expr, "vb365_job_last_session_reason_info") ||
			!strings.Contains(r.Expr, "group_left(session_id, log_type, message)") ||
			!strings.Contains(r.Annotations["description"], "$labels.message") {
			t.Errorf("%s: must join vb365_job_last_session_reason_info and quote its message", name)
		}
		// The identity is the job: a session ID or reason label would make every failed
		// run, and every reason read late, a new page.
		for _, l := range []string{"session_id", "message", "log_type"} {
			if v, ok := r.Labels[l]; !ok || v != "" {
				t.Errorf("%s: label %s must be set to \"\"", name, l)
			}
		}
		// A running session must not resolve it: only the last finished session counts.
		if strings.Contains(r.Expr, "running") {
			t.Errorf("%s: must not depend on the running session", name)
		}
		// Nor a scrape that could not list the jobs: the status is held over a gap.
		if !strings.Contains(r.Expr, "last_over_time(vb365_job_last_session_status{") {
			t.Errorf("%s: must hold the last status seen over a gap in the job series", name)
		}
	}
	if r := got["VB365JobNotSucceededRecently"]; !strings.Contains(r.Expr, "unless on(job, instance, server, job_id)") ||
		!strings.Contains(r.Expr, "last_over_time(vb365_job_enabled[10m]) == 1") {
		t.Error("VB365JobNotSucceededRecently: enabled jobs only, including those with no success on record (unless ... last_success)")
	}
	if r := got["VB365RepositoryAlmostFull"]; !strings.Contains(r.Expr, "vb365_repository_capacity_bytes > 0") {
		t.Error("VB365RepositoryAlmostFull: a repository reporting capacity 0 must never fire")
	}
	// Restores (issue 21): the organization and type are quoted; who ran it never becomes a
	// label (unbounded operators must not mean unbounded alerts).
	for _, name := range []string{"VB365RestoreFailed", "VB365RestoreBurst"} {
		r := got[name]
		if !strings.Contains(r.Expr, "vb365_restore_sessions_recent") || strings.Contains(r.Expr, "initiated_by") ||
			!strings.Contains(r.Annotations["summary"], "$labels.organization") {
			t.Errorf("%s: must read vb365_restore_sessions_recent, never by initiated_by, and name the organization", name)
		}
	}
	if r := got["VB365RestoreFailed"]; !strings.Contains(r.Expr, `result="Failed"`) || !strings.Contains(r.Annotations["description"], "$labels.type") {
		t.Error("VB365RestoreFailed: Failed restores only, quoting their type")
	}
	if r := got["VB365RestoreBurst"]; !strings.Contains(r.Expr, "sum by(job, instance, server, organization)") {
		t.Error("VB365RestoreBurst: counts every restore of one organization on one server")
	}
	for _, name := range []string{"VB365OrganizationUsersUnprotected", "VB365OrganizationNotBackedUp"} {
		r := got[name]
		if !strings.Contains(r.Expr, "group_left(name)") || !strings.Contains(r.Expr, "vb365_organization_info") ||
			!strings.Contains(r.Annotations["summary"], "$labels.name") {
			t.Errorf("%s: must join vb365_organization_info and name the organization in its summary", name)
		}
	}
	if r := got["VB365OrganizationUsersUnprotected"]; r.For != "1d" || !strings.Contains(r.Expr, `state="unprotected"`) {
		t.Errorf("VB365OrganizationUsersUnprotected: unprotected users for longer than a day (for %q)", r.For)
	}
	if got["VB365ServerDown"].For != "5m" || got["VB365SessionScrapeFailing"].For != "15m" {
		t.Errorf("for: ServerDown %q (want 5m), SessionScrapeFailing %q (want 15m)",
			got["VB365ServerDown"].For, got["VB365SessionScrapeFailing"].For)
	}
}

// The exporter's own alerts (issue 20): each on the series that says it, and the
// scrape jobs whose up they watch written once, in the recording rule.
func TestExporterAlerts(t *testing.T) {
	want := map[string]struct{ sev, metric string }{
		"VB365ExporterDown":               {"critical", "vb365:exporter_job:info"},
		"VB365ExporterConfigReloadFailed": {"warning", "vb365_exporter_config_last_reload_successful"},
		"VB365ExporterDroppingItems":      {"warning", `{__name__=~"vb365_.+_dropped"}`},
	}
	rules := loadRules(t)
	for _, r := range rules {
		w, ok := want[r.Alert]
		if !ok {
			continue
		}
		delete(want, r.Alert)
		if r.Labels["severity"] != w.sev || !strings.Contains(r.Expr, w.metric) || r.For == "" || r.Annotations["summary"] == "" {
			t.Errorf("%s: severity %q, for %q, expr %q; want severity %s, a for, a summary, and %s", r.Alert, r.Labels["severity"], r.For, r.Expr, w.sev, w.metric)
		}
	}
	for name := range want {
		t.Errorf("alert %s missing", name)
	}
	if b, _ := os.ReadFile(rulesFile); strings.Count(string(b), `"job", "vb365"`) != 1 {
		t.Errorf("the exporter's job name must be written once, in vb365:exporter_job:info")
	}
	if rules[2].Record != "vb365:exporter_job:info" {
		t.Errorf("rule 2 = %+v, want the job recording rule (set at the top, like the windows)", rules[2])
	}
}

// Each window and threshold must be written once: in the recording rule its alerts read.
func TestAlertWindowWrittenOnce(t *testing.T) {
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(regexp.MustCompile(`\b86400\b`).FindAll(b, -1)); n != 4 {
		t.Errorf("86400 appears %d times, want four: per window, its header comment and its recording rule", n)
	}
	// 93600 (26h) is two windows: the job success and the organization backup window.
	for v, want := range map[string]int{"93600": 4, "2592000": 2, "0.95": 2, "0.10": 2} {
		if n := strings.Count(string(b), v); n != want {
			t.Errorf("%s appears %d times, want %d: per window, its header comment and its recording rule", v, n, want)
		}
	}
	rules := loadRules(t)
	// Rules run in order: every window's recording rule comes before the first alert.
	firstAlert := slices.IndexFunc(rules, func(r rule) bool { return r.Alert != "" })
	for _, w := range []struct {
		record string
		alerts []string
	}{
		{"vb365:data_retrieval_session_alert_window:seconds", []string{"VB365DataRetrievalSessionFailed", "VB365DataRetrievalSessionWarning"}},
		{"vb365:data_retrieval_expiry_window:seconds", []string{"VB365DataRetrievalExpiringSoon"}},
		{"vb365:job_success_window:seconds", []string{"VB365JobNotSucceededRecently"}},
		{"vb365:license_expiry_window:seconds", []string{"VB365LicenseExpiringSoon"}},
		{"vb365:license_users_threshold:ratio", []string{"VB365LicenseUsersNearLimit"}},
		{"vb365:repository_free_threshold:ratio", []string{"VB365RepositoryAlmostFull"}},
		{"vb365:organization_backup_window:seconds", []string{"VB365OrganizationNotBackedUp"}},
		{"vb365:restore_burst_threshold:count", []string{"VB365RestoreBurst"}},
	} {
		i := slices.IndexFunc(rules, func(r rule) bool { return r.Record == w.record })
		if i < 0 || i > firstAlert || !strings.HasPrefix(strings.TrimSpace(rules[i].Expr), "vector(") {
			t.Errorf("want the window recording rule %s = vector(...) before the first alert (rules run in order); found at %d", w.record, i)
		}
		for _, r := range rules {
			if slices.Contains(w.alerts, r.Alert) && !strings.Contains(r.Expr, w.record) {
				t.Errorf("%s does not use %s", r.Alert, w.record)
			}
		}
	}
}

// promtool is Prometheus' own validator and unit-test runner; CI installs it
// (Debian package prometheus), so only a developer machine may lack it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not found; CI must install the Debian package prometheus")
		}
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	return p
}

func TestPromtoolCheckRules(t *testing.T) {
	out, err := exec.Command(promtool(t), "check", "rules", rulesFile).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

func TestPromtoolTestRules(t *testing.T) {
	out, err := exec.Command(promtool(t), "test", "rules", "vb365_exporter.rules_test.yml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
