// Package metriccheck checks PromQL written for vb365_exporter (dashboard
// panels, alerting rules) against the metrics the exporter really emits, so
// renaming a metric or a label in the collector breaks the dashboard and rule
// tests instead of silently blanking a panel or muting an alert.
package metriccheck

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/vb365-exporter/vb365_exporter/collector"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// promql accepts only stable PromQL: the rules and the dashboard must also
// work on Prometheus releases that lack experimental functions.
var promql = parser.NewParser(parser.Options{})

// TargetLabels are attached by Prometheus to every scraped series.
var TargetLabels = []string{"job", "instance"}

// Metrics maps a metric name to what it carries.
type Metrics map[string]Metric

// Metric is one family as the collector serves it.
type Metric struct {
	Labels []string // label names, sorted
	// States are the values of a state set's status label (the collector serves every
	// one, 0 or 1), so a rule matching a status the metric never takes is caught.
	States []string
}

// Names returns the metric names, sorted.
func (m Metrics) Names() []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ExporterMetrics runs the real collector over a snapshot holding one ended,
// one running and one unreadable session, a data retrieval and a discovery result, so that every series family the
// collector can emit (end timestamps only exist for ended sessions) shows up.
func ExporterMetrics() (Metrics, error) {
	creation := time.Date(2022, 1, 28, 20, 52, 36, 917705300, time.FixedZone("", 3600))
	snap := &server.Snapshot{
		Server:   "prod",
		Start:    creation,
		Duration: time.Second,
		Up:       true,
		Sessions: []server.SessionResult{
			{ID: "668f478c-0326-440a-8bdf-58cf39163ea2", Session: &vb365.Session{
				ID: "668f478c-0326-440a-8bdf-58cf39163ea2", Name: "Exchange data retrieval",
				RetrievalID:  "8a76872b-7f2c-4c50-95f4-92c4d41bc47c",
				CreationTime: creation, EndTime: creation.Add(220834 * time.Millisecond),
				Progress: 5, ProcessedObjects: 37, Type: "Retrieve", Status: vb365.StatusSuccess,
			}},
			{ID: "11111111-0000-4000-8000-000000000001", Session: &vb365.Session{
				ID: "11111111-0000-4000-8000-000000000001", Name: "Running retrieval",
				RetrievalID:  "11111111-0000-4000-8000-0000000000aa",
				CreationTime: creation, Progress: 1, ProcessedObjects: 2, Type: "Retrieve",
				Status: vb365.StatusRunning,
			}},
			{ID: "22222222-0000-4000-8000-000000000002", Err: fmt.Errorf("not found")},
			{ID: "33333333-0000-4000-8000-000000000003", Session: &vb365.Session{
				ID: "33333333-0000-4000-8000-000000000003", Name: "Failed retrieval",
				RetrievalID:  "11111111-0000-4000-8000-0000000000aa",
				CreationTime: creation, EndTime: creation.Add(time.Minute), Type: "Retrieve",
				Status: vb365.StatusFailed,
			}, Log: &server.SessionLog{Errors: 1, Reason: &vb365.LogItem{Type: vb365.LogError, Message: "Archive tier blob not available"}}},
		},
		// A retrieval with an expiration and a discovery result, for the retrieval and
		// discovery families (docs/discovery.md).
		Retrievals: []vb365.Retrieval{{ID: "8a76872b-7f2c-4c50-95f4-92c4d41bc47c", Name: "Exchange retrieval",
			Type: "Exchange", DataState: "Retrieved", LastStatus: vb365.StatusSuccess, ExpirationTime: creation.Add(7 * 24 * time.Hour)}},
		Discovery: &server.DiscoveryResult{Sessions: 2},
		// The installation: a job whose last session failed (with its reason) while the next
		// runs, a license, a repository and a v8 proxy (maintenance mode, CPU and memory).
		Jobs: []server.JobResult{{
			Job: vb365.Job{ID: "0b000000-0000-4000-8000-000000000001", Name: "Exchange daily", BackupType: "EntireOrganization",
				RepositoryID: "4e000000-0000-4000-8000-000000000001", Enabled: true, LastRun: creation, NextRun: creation.Add(24 * time.Hour)},
			LastFinished: &vb365.JobSession{ID: "5e000000-0000-4000-8000-000000000001", CreationTime: creation,
				EndTime: creation.Add(time.Minute), Status: vb365.StatusFailed, TransferredBytes: 1 << 20, ProcessedObjects: 3},
			Running:        &vb365.JobSession{ID: "5e000000-0000-4000-8000-000000000002", CreationTime: creation, Status: vb365.StatusRunning, Progress: 40},
			LastSuccessEnd: creation.Add(-24 * time.Hour),
			Log:            &server.SessionLog{Errors: 1, Reason: &vb365.LogItem{Type: vb365.LogError, Message: "Mailbox not found"}},
		}},
		License: &vb365.License{Status: "Valid", Type: "Subscription", LicensedTo: "Contoso", Expires: creation.Add(30 * 24 * time.Hour),
			Licensed: 100, Used: 96},
		Repositories: []vb365.Repository{{ID: "4e000000-0000-4000-8000-000000000001", Name: "Primary", CapacityBytes: 1 << 40, FreeBytes: 1 << 36}},
		Proxies: []vb365.Proxy{{ID: "9a000000-0000-4000-8000-000000000001", Host: "proxy01", Status: "Offline", Maintenance: "Disabled",
			CPU: new(12.5), Memory: new(40.0)}},
		// An organization read in the background: licensing, users, a repository with object
		// storage (used_bytes and object_storage_used_bytes).
		Organizations: []server.OrganizationResult{{
			Org:       vb365.Organization{ID: "0e000000-0000-4000-8000-000000000001", Name: "contoso.onmicrosoft.com", Type: "Office365", LastBackup: creation},
			Licensing: &vb365.OrganizationLicensing{Licensed: 90, New: 2},
			Usage:     []vb365.OrganizationUsage{{RepositoryID: "4e000000-0000-4000-8000-000000000001", UsedBytes: new(int64(1 << 30)), ObjectStorageBytes: new(int64(1 << 40))}},
			Users:     &server.UserCounts{Protected: 88, Unprotected: 2, ReadAt: creation},
		}},
		// Restores: one counted, one that ended in the window, one running (initiated_by).
		Restores: &server.RestoreResult{
			Totals: []server.RestoreCount{{Organization: "contoso.onmicrosoft.com", Type: "SharePoint", Result: "Failed", Count: 1}},
			Recent: []vb365.RestoreSession{{ID: "4e570003-0000-4000-8000-000000000003", Organization: "contoso.onmicrosoft.com",
				Type: "SharePoint", State: vb365.RestoreStopped, Result: "Failed", CreationTime: creation, EndTime: creation.Add(time.Minute)}},
			Running: []vb365.RestoreSession{{ID: "4e570004-0000-4000-8000-000000000004", Organization: "northwind.onmicrosoft.com",
				Type: "Teams", State: "Working", InitiatedBy: `NORTHWIND\it.operator`, CreationTime: creation}},
		},
		Collectors: []server.CollectorResult{{Name: "data_retrievals", Duration: time.Second}},
	}
	mfs := collector.Build([]*server.Snapshot{snap}, snap.Start.Add(time.Hour), nil)
	out := Metrics{}
	for _, mf := range mfs {
		seen := map[string]bool{}
		var m Metric
		for _, s := range mf.GetMetric() {
			for _, lp := range s.GetLabel() {
				seen[lp.GetName()] = true
				if lp.GetName() == "status" && !slices.Contains(m.States, lp.GetValue()) {
					m.States = append(m.States, lp.GetValue())
				}
			}
		}
		for n := range seen {
			m.Labels = append(m.Labels, n)
		}
		sort.Strings(m.Labels)
		out[mf.GetName()] = m
	}
	return out, nil
}

// Grafana's template variables are not PromQL. Each is replaced by something
// of the same syntactic kind: a regex for label matchers, a duration for
// ranges.
var (
	durationVars = regexp.MustCompile(`\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}`)
	otherVars    = regexp.MustCompile(`\$\{[A-Za-z0-9_:]+\}|\$[A-Za-z_][A-Za-z0-9_]*`)
)

// Expand substitutes Grafana variables: vars by name, Grafana's interval
// variables by a one-minute duration, anything else by ".*".
func Expand(expr string, vars map[string]string) string {
	expr = durationVars.ReplaceAllString(expr, "1m")
	return otherVars.ReplaceAllStringFunc(expr, func(v string) string {
		name := strings.Trim(v, "${}")
		if val, ok := vars[name]; ok {
			return val
		}
		return ".*"
	})
}

// Check parses expr and reports every selector of a metric that is not in
// known, every label matcher on a label the metric does not have, and every
// status matcher whose value is not one the metric's state set takes.
func Check(expr string, known Metrics) []error {
	ast, err := promql.ParseExpr(expr)
	if err != nil {
		return []error{fmt.Errorf("does not parse: %w", err)}
	}
	var errs []error
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name, re := vs.Name, (*labels.Matcher)(nil)
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel {
				name = m.Value
				if m.Type == labels.MatchRegexp {
					re = m
				}
			}
		}
		metric, ok := known[name]
		if re != nil {
			// A name pattern (every vb365_*_dropped family) must match at least one
			// metric; its label matchers may use only labels all matches share.
			ok, metric = matching(re, known)
		}
		lbls := metric.Labels
		if !ok {
			errs = append(errs, fmt.Errorf("metric %q is not exposed by the exporter (it exposes %s)", name, strings.Join(known.Names(), ", ")))
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel {
				continue
			}
			if !slices.Contains(lbls, m.Name) && !slices.Contains(TargetLabels, m.Name) {
				errs = append(errs, fmt.Errorf("metric %q has no label %q (it has %s)", name, m.Name, strings.Join(lbls, ", ")))
			}
			if m.Name == "status" && m.Type == labels.MatchEqual && !slices.Contains(metric.States, m.Value) {
				errs = append(errs, fmt.Errorf("status %q is not a state of %s (%s)", m.Value, name, strings.Join(metric.States, ", ")))
			}
		}
		return nil
	})
	return errs
}

func matching(re *labels.Matcher, known Metrics) (bool, Metric) {
	var common Metric
	n := 0
	for _, name := range known.Names() {
		if !re.Matches(name) {
			continue
		}
		if n++; n == 1 {
			common.Labels = slices.Clone(known[name].Labels)
		} else {
			common.Labels = slices.DeleteFunc(common.Labels, func(l string) bool { return !slices.Contains(known[name].Labels, l) })
		}
	}
	return n > 0, common
}

// MetricNames returns the metric names selected by expr.
func MetricNames(expr string) ([]string, error) {
	ast, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, vs := range parser.ExtractSelectors(ast) {
		for _, m := range vs {
			if m.Name == model.MetricNameLabel && !slices.Contains(names, m.Value) {
				names = append(names, m.Value)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}
