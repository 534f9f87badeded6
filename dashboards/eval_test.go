package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/vb365-exporter/vb365_exporter/dashboards/metriccheck"
)

// promtool is Prometheus' own unit-test runner; CI installs it (Debian package
// prometheus), so only a developer machine may lack it.
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

func panelQuery(t *testing.T, title, refID string) string {
	t.Helper()
	for _, q := range load(t).Queries() {
		if q.Panel == title && q.RefID == refID {
			return metriccheck.Expand(q.Expr, vars)
		}
	}
	t.Fatalf("no panel %q with query %s", title, refID)
	return ""
}

type sample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// evalPanel has promtool evaluate the panel's query over series (promtool's input_series,
// one sample a minute from Unix time 0) at time 0, where time() is 0, and fails the test
// unless the result is want (in any order: promtool compares sets).
func evalPanel(t *testing.T, expr string, series map[string]string, want []sample) {
	t.Helper()
	type input struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	var in []input
	for s, v := range series {
		in = append(in, input{s, v})
	}
	test := map[string]any{
		"rule_files":          []string{},
		"evaluation_interval": "1m",
		"tests": []any{map[string]any{
			"interval":     "1m",
			"input_series": in,
			"promql_expr_test": []any{map[string]any{
				"expr": expr, "eval_time": "0m", "exp_samples": want,
			}},
		}},
	}
	b, err := yaml.Marshal(test)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "panel_test.yml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool(t), "test", "rules", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Errorf("%s\n%s: %v\n%s", expr, file, err, out)
	}
}

func retrieval(server, id string) string {
	return fmt.Sprintf(`job="vb365",instance="e:9925",server=%q,retrieval_id=%q`, server, id)
}

// The expiry panel names each retrieval with an expiration and gives its time left
// (negative once expired): a retrieval whose info is duplicated while its availability
// period changes appears once, one without an expiration not at all, and the same
// retrieval ID on another server keeps its own name. The query is sort(), so Grafana
// gets the rows soonest first.
func TestExpiryPanelQuery(t *testing.T) {
	const a, b, c, d = "aaaaaaaa-0000-4000-8000-00000000000a", "bbbbbbbb-0000-4000-8000-00000000000b",
		"cccccccc-0000-4000-8000-00000000000c", "dddddddd-0000-4000-8000-00000000000d"
	expr := panelQuery(t, expiryPanel, "A")
	ast, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Fatal(err)
	}
	if call, ok := ast.(*parser.Call); !ok || call.Func.Name != "sort" {
		t.Errorf("query A is %T %s, want sort(...) (soonest first)", ast, ast)
	}
	info, exp := "vb365_data_retrieval_info{", "vb365_data_retrieval_expiration_timestamp_seconds{"
	evalPanel(t, expr, map[string]string{
		info + retrieval("prod", a) + `,name="Later",type="Exchange",data_state="Retrieved"}`:                "1",
		info + retrieval("prod", b) + `,name="Sooner",type="Teams",data_state="Retrieved"}`:                  "1",
		info + retrieval("prod", b) + `,name="Sooner",type="Teams",data_state="ChangingAvailabilityPeriod"}`: "1",
		info + retrieval("prod", c) + `,name="Without expiry",type="OneDrive",data_state="Retrieving"}`:      "1",
		info + retrieval("prod", d) + `,name="Expired",type="SharePoint",data_state="Retrieved"}`:            "1",
		info + retrieval("other", b) + `,name="Other server's",type="Teams",data_state="Retrieved"}`:         "1",
		exp + retrieval("prod", a) + "}":  "90000",
		exp + retrieval("prod", b) + "}":  "3600",
		exp + retrieval("prod", d) + "}":  "-100",
		exp + retrieval("other", b) + "}": "7200",
	}, []sample{
		{fmt.Sprintf(`{server="prod",retrieval_id=%q,name="Expired",type="SharePoint"}`, d), -100},
		{fmt.Sprintf(`{server="prod",retrieval_id=%q,name="Sooner",type="Teams"}`, b), 3600},
		{fmt.Sprintf(`{server="other",retrieval_id=%q,name="Other server's",type="Teams"}`, b), 7200},
		{fmt.Sprintf(`{server="prod",retrieval_id=%q,name="Later",type="Exchange"}`, a), 90000},
	})
}

// The session table's reason query keeps the message and its item type per session.
func TestSessionTableReasonQuery(t *testing.T) {
	const failed, warning = "55555555-5555-4555-8555-555555555555", "66666666-6666-4666-8666-666666666666"
	reason := `vb365_data_retrieval_session_reason_info{job="vb365",instance="e:9925",server="prod",session_id=%q,log_type=%q,message=%q}`
	evalPanel(t, panelQuery(t, sessionTable, "G"), map[string]string{
		fmt.Sprintf(reason, failed, "Error", "Failed to access Azure storage account"): "1",
		fmt.Sprintf(reason, warning, "Warning", "3 items could not be updated"):        "1",
	}, []sample{
		{fmt.Sprintf(`{server="prod",session_id=%q,log_type="Error",message="Failed to access Azure storage account"}`, failed), 1},
		{fmt.Sprintf(`{server="prod",session_id=%q,log_type="Warning",message="3 items could not be updated"}`, warning), 1},
	})
}

// The session table's End time (query F): the end in milliseconds for an ended session,
// 0 for a Running one, which the column maps to "running", and nothing for a session that
// has not ended but is not running either (NotConfigured), which reads "-" (issue 20).
func TestSessionTableEndTimeQuery(t *testing.T) {
	const ended, running, notConfigured = "11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002",
		"33333333-0000-4000-8000-000000000003"
	status := `vb365_data_retrieval_session_status{job="vb365",instance="e:9925",server="prod",session_id=%q,status=%q}`
	series := map[string]string{
		`vb365_data_retrieval_session_end_timestamp_seconds{job="vb365",instance="e:9925",server="prod",session_id="` + ended + `"}`: "1700000000",
	}
	for id, st := range map[string]string{ended: "Success", running: "Running", notConfigured: "NotConfigured"} {
		for _, s := range []string{"Running", "Success", "NotConfigured"} {
			v := "0"
			if s == st {
				v = "1"
			}
			series[fmt.Sprintf(status, id, s)] = v
		}
	}
	evalPanel(t, panelQuery(t, sessionTable, "F"), series, []sample{
		{fmt.Sprintf(`{server="prod",session_id=%q}`, ended), 1700000000000},
		{fmt.Sprintf(`{server="prod",session_id=%q}`, running), 0},
	})

	var fc struct {
		Overrides []struct {
			Matcher    struct{ Options string }
			Properties []struct {
				ID    string
				Value json.RawMessage
			}
		}
	}
	for _, p := range load(t).AllPanels() {
		if p.Title == sessionTable {
			if err := json.Unmarshal(p.FieldConfig, &fc); err != nil {
				t.Fatal(err)
			}
		}
	}
	props := map[string]string{}
	for _, o := range fc.Overrides {
		if o.Matcher.Options == "End time" {
			for _, p := range o.Properties {
				var b bytes.Buffer
				_ = json.Compact(&b, p.Value)
				props[p.ID] = b.String()
			}
		}
	}
	if props["noValue"] != `"-"` || !strings.Contains(props["mappings"], `"0":{"text":"running"`) {
		t.Errorf("End time: noValue %s, mappings %s; want \"-\" and 0 shown as running", props["noValue"], props["mappings"])
	}
}
