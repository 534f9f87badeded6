package dashboards

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/collector"
	"github.com/vb365-exporter/vb365_exporter/dashboards/metriccheck"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// panelTypes are the panel plugins built into Grafana 10 that this dashboard
// may use; anything else would need a plugin install on the user's side.
var panelTypes = []string{"row", "stat", "table", "state-timeline", "timeseries", "text", "bargauge", "gauge", "status-history"}

// Titles of the panels the tests look at one by one.
const (
	sessionTable = "Data retrieval sessions"
	expiryPanel  = "Data retrievals by time to expiry"
)

// organize is the table's "organize" transformation: which fields it hides and what
// it calls the others.
func organize(t *testing.T, p Panel) (exclude map[string]bool, rename map[string]string) {
	t.Helper()
	for _, raw := range p.Transformations {
		var tr struct {
			ID      string `json:"id"`
			Options struct {
				ExcludeByName map[string]bool   `json:"excludeByName"`
				RenameByName  map[string]string `json:"renameByName"`
			} `json:"options"`
		}
		if err := json.Unmarshal(raw, &tr); err != nil {
			t.Fatalf("panel %q: transformation %s: %v", p.Title, raw, err)
		}
		if tr.ID == "organize" {
			return tr.Options.ExcludeByName, tr.Options.RenameByName
		}
	}
	t.Fatalf("panel %q has no organize transformation", p.Title)
	return nil, nil
}

// vars are what Grafana substitutes for the dashboard's template variables.
var vars = map[string]string{"server": ".+", "datasource": "prometheus"}

func exporterMetrics(t *testing.T) metriccheck.Metrics {
	t.Helper()
	m, err := metriccheck.ExporterMetrics()
	if err != nil {
		t.Fatalf("collecting the exporter's metrics: %v", err)
	}
	return m
}

func load(t *testing.T) *Dashboard {
	t.Helper()
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// each runs check on every shipped dashboard, as a subtest named after its file.
func each(t *testing.T, check func(t *testing.T, d *Dashboard)) {
	t.Helper()
	names := Names()
	if len(names) < 2 {
		t.Fatalf("dashboards %v, want the data retrieval and the installation dashboard", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			d, err := LoadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			check(t, d)
		})
	}
}

// The embedded copies are what the tests check; they must be the files users get,
// all of them.
func TestEmbeddedMatchesFile(t *testing.T) {
	onDisk, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(onDisk, Names()) || !slices.Contains(onDisk, FileName) || !slices.Contains(onDisk, InstallationFileName) {
		t.Fatalf("embedded %v, on disk %v", Names(), onDisk)
	}
	for _, name := range onDisk {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := Files.ReadFile(name); !bytes.Equal(b, e) {
			t.Errorf("embedded %s differs from the file on disk", name)
		}
	}
	if e, _ := Files.ReadFile(FileName); !bytes.Equal(e, JSON) {
		t.Error("JSON is not the data retrieval dashboard")
	}
}

// Each dashboard links to every other one in its header, keeping the time range and
// the server selection, so a user moves between them without choosing again.
func TestDashboardsLinkEachOther(t *testing.T) {
	uids := map[string]string{}
	for _, name := range Names() {
		d, err := LoadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := uids[d.UID]; dup {
			t.Errorf("%s and %s share uid %q", other, name, d.UID)
		}
		uids[d.UID] = name
	}
	each(t, func(t *testing.T, d *Dashboard) {
		for uid := range uids {
			if uid == d.UID {
				continue
			}
			found := false
			for _, l := range d.Links {
				if l.Type == "link" && l.URL == "/d/"+uid {
					found = true
					if !l.IncludeVars || !l.KeepTime || l.Title == "" {
						t.Errorf("link to %s: %+v, want a title, includeVars and keepTime", uid, l)
					}
				}
			}
			if !found {
				t.Errorf("no link to dashboard %s (%s); links %+v", uid, uids[uid], d.Links)
			}
		}
	})
}

// The snapshot used to collect metrics must make the collector emit every
// family it describes, or a metric could go unchecked.
func TestExporterMetricsCoverEveryDescriptor(t *testing.T) {
	m := exporterMetrics(t)
	if got, want := len(m), len(collector.Families()); got != want {
		t.Fatalf("collected %d metric families (%v), the collector describes %d", got, m.Names(), want)
	}
	if st := m["vb365_data_retrieval_session_status"]; !slices.Equal(st.Labels, []string{"server", "session_id", "status"}) ||
		!slices.Equal(st.States, slices.Sorted(slices.Values(vb365.Statuses))) {
		t.Fatalf("status labels = %v, states %v", st.Labels, st.States)
	}
}

func TestDashboardIsValid(t *testing.T) { each(t, checkValid) }

func checkValid(t *testing.T, d *Dashboard) {
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q and title %q must be set for file provisioning", d.UID, d.Title)
	}
	if len(d.UID) > 40 {
		t.Errorf("uid %q longer than Grafana's 40 characters", d.UID)
	}
	// 36 is the first schema with datasource references as objects (Grafana 9);
	// Grafana migrates anything older on load, rewriting the file's panels.
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d < 36", d.SchemaVersion)
	}
	if len(d.Panels) == 0 {
		t.Fatal("no panels")
	}
	ids := map[int]string{}
	type cell struct{ x, y int }
	occupied := map[cell]string{}
	for _, p := range d.AllPanels() {
		if p.ID <= 0 {
			t.Errorf("panel %q: id %d, want a positive unique id", p.Title, p.ID)
		}
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if !slices.Contains(panelTypes, p.Type) {
			t.Errorf("panel %q: type %q is not a built-in panel", p.Title, p.Type)
		}
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside Grafana's 24-column grid", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := occupied[cell{x, y}]; ok {
					t.Errorf("panels %q and %q overlap at %d,%d", other, p.Title, x, y)
				}
				occupied[cell{x, y}] = p.Title
			}
		}
		if p.Type == "row" {
			if len(p.Targets) != 0 {
				t.Errorf("row %q has queries", p.Title)
			}
			continue
		}
		if p.Description == "" {
			t.Errorf("panel %q has no description", p.Title)
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want prometheus/${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		refIDs := map[string]bool{}
		for _, q := range p.Targets {
			if q.RefID == "" || refIDs[q.RefID] {
				t.Errorf("panel %q: refId %q empty or repeated", p.Title, q.RefID)
			}
			refIDs[q.RefID] = true
			if strings.TrimSpace(q.Expr) == "" {
				t.Errorf("panel %q query %s: empty expr", p.Title, q.RefID)
			}
			if q.Datasource == nil || q.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q query %s: datasource %+v, want ${datasource}", p.Title, q.RefID, q.Datasource)
			}
			if q.Instant == q.Range {
				t.Errorf("panel %q query %s: exactly one of instant and range must be set", p.Title, q.RefID)
			}
		}
	}
}

func TestDashboardVariables(t *testing.T) { each(t, checkVariables) }

func checkVariables(t *testing.T, d *Dashboard) {
	byName := map[string]Variable{}
	for _, v := range d.Templating.List {
		byName[v.Name] = v
	}
	ds, ok := byName["datasource"]
	if !ok || ds.Type != "datasource" || string(ds.Query) != `"prometheus"` {
		t.Errorf("datasource variable = %+v, want a datasource variable of type prometheus", ds)
	}
	srv, ok := byName["server"]
	if !ok {
		t.Fatal("no server variable")
	}
	if srv.Type != "query" || !srv.Multi || !srv.IncludeAll {
		t.Errorf("server variable = %+v, want a multi-value query variable with All", srv)
	}
	if srv.Datasource == nil || srv.Datasource.UID != "${datasource}" {
		t.Errorf("server variable datasource = %+v", srv.Datasource)
	}
	// Grafana writes the query as a plain string (every version reads it) or,
	// from 10.x on, as an object; accept both.
	var q struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(srv.Query, &q.Query); err != nil {
		if err := json.Unmarshal(srv.Query, &q); err != nil {
			t.Fatalf("server variable query: %v", err)
		}
	}
	// label_values(METRIC, LABEL) is Grafana syntax, not PromQL: check its parts.
	inner, found := strings.CutPrefix(q.Query, "label_values(")
	inner, found2 := strings.CutSuffix(inner, ")")
	parts := strings.Split(inner, ",")
	if !found || !found2 || len(parts) != 2 {
		t.Fatalf("server variable query %q, want label_values(metric, server)", q.Query)
	}
	metric, label := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
	m, ok := exporterMetrics(t)[metric]
	if !ok || label != "server" || !slices.Contains(m.Labels, label) {
		t.Errorf("server variable reads label %q of %q, which the exporter does not expose", label, metric)
	}
}

// Every query must parse as PromQL once Grafana's variables are substituted,
// and select only metrics and labels that the real collector emits.
func TestDashboardQueriesUseExporterMetrics(t *testing.T) {
	known := exporterMetrics(t)
	each(t, func(t *testing.T, d *Dashboard) {
		qs := d.Queries()
		if len(qs) == 0 {
			t.Fatal("no queries")
		}
		for _, q := range qs {
			for _, err := range metriccheck.Check(metriccheck.Expand(q.Expr, vars), known) {
				t.Errorf("panel %q query %s: %v\n%s", q.Panel, q.RefID, err, q.Expr)
			}
		}
	})
}

// The issue asks for specific content; a refactoring that drops a part of it
// must fail.
func TestDashboardHasRequiredPanels(t *testing.T) {
	d := load(t)
	uses := func(p Panel, metric string) bool {
		for _, q := range p.Targets {
			names, err := metriccheck.MetricNames(metriccheck.Expand(q.Expr, vars))
			if err == nil && slices.Contains(names, metric) {
				return true
			}
		}
		return false
	}
	find := func(typ string, metrics ...string) []Panel {
		var out []Panel
	panels:
		for _, p := range d.AllPanels() {
			if p.Type != typ {
				continue
			}
			for _, m := range metrics {
				if !uses(p, m) {
					continue panels
				}
			}
			out = append(out, p)
		}
		return out
	}

	for _, st := range vb365.Statuses {
		found := false
		for _, p := range find("stat", "vb365_data_retrieval_session_status") {
			for _, q := range p.Targets {
				found = found || strings.Contains(q.Expr, `status="`+st+`"`)
			}
		}
		if !found {
			t.Errorf("no stat panel counts sessions with status %s", st)
		}
	}

	tables := find("table", "vb365_data_retrieval_session_info", "vb365_data_retrieval_session_status",
		"vb365_data_retrieval_session_progress", "vb365_data_retrieval_session_processed_objects",
		"vb365_data_retrieval_session_duration_seconds", "vb365_data_retrieval_session_creation_timestamp_seconds",
		"vb365_data_retrieval_session_end_timestamp_seconds", "vb365_data_retrieval_session_reason_info")
	if len(tables) != 1 || tables[0].Title != sessionTable {
		t.Errorf("want one session table %q joining _info with every session metric and the reason, found %d", sessionTable, len(tables))
	} else {
		// The reason is reason_info's message label: a column of its own, shown.
		exclude, rename := organize(t, tables[0])
		if rename["message"] != "Reason" || exclude["message"] || !exclude["Value #G"] {
			t.Errorf("session table: message must be shown as the Reason column (and reason_info's constant 1 hidden); rename %v, exclude %v", rename, exclude)
		}
		body, _ := json.Marshal(tables[0])
		for _, want := range []string{`"dtdurations"`, `"dateTimeAsIso"`, `"color-background"`, `"Failed"`, `"merge"`} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("session table lacks %s (durations in human units, times, status colours, join)", want)
			}
		}
	}
	checkExpiryPanel(t, find("table", "vb365_data_retrieval_expiration_timestamp_seconds", "vb365_data_retrieval_info"))
	if len(find("state-timeline", "vb365_data_retrieval_session_status", "vb365_data_retrieval_session_info")) == 0 {
		t.Error("no state timeline of the status per session")
	}
	if len(find("state-timeline", "vb365_data_retrieval_session_scrape_success")) == 0 {
		t.Error("no per-session view of scrape failures")
	}
	for _, m := range []string{"vb365_data_retrieval_session_progress", "vb365_data_retrieval_session_processed_objects",
		"vb365_scrape_duration_seconds", "vb365_data_retrieval_session_scrape_success"} {
		if len(find("timeseries", m)) == 0 {
			t.Errorf("no time series panel of %s", m)
		}
	}
	if len(find("stat", "vb365_up"))+len(find("timeseries", "vb365_up")) == 0 {
		t.Error("no panel shows vb365_up")
	}
}

// checkExpiryPanel demands one table of the time left until each retrieval's data expires,
// named, soonest first both in the query and in the table's own sort (Grafana re-sorts
// rows after merging queries), in human durations.
func checkExpiryPanel(t *testing.T, tables []Panel) {
	t.Helper()
	if len(tables) != 1 || tables[0].Title != expiryPanel {
		t.Errorf("want one table %q joining the expiration time with vb365_data_retrieval_info, found %d", expiryPanel, len(tables))
		return
	}
	p := tables[0]
	var a string
	for _, q := range p.Targets {
		if q.RefID == "A" {
			a = strings.Join(strings.Fields(q.Expr), " ")
		}
	}
	if !strings.HasPrefix(a, "sort(") || !strings.Contains(a, "- time()") || !strings.Contains(a, "group_left(name") {
		t.Errorf("%s: query A %q must be sort(expiration - time() joined with the retrieval's name)", expiryPanel, a)
	}
	exclude, rename := organize(t, p)
	if rename["Value #A"] != "Time to expiry" || rename["name"] != "Name" || exclude["Value #A"] || exclude["name"] {
		t.Errorf("%s: want the Name and Time to expiry columns shown; rename %v, exclude %v", expiryPanel, rename, exclude)
	}
	var opts struct {
		SortBy []struct {
			DisplayName string `json:"displayName"`
			Desc        bool   `json:"desc"`
		} `json:"sortBy"`
	}
	if err := json.Unmarshal(p.Options, &opts); err != nil || len(opts.SortBy) != 1 ||
		opts.SortBy[0].DisplayName != "Time to expiry" || opts.SortBy[0].Desc {
		t.Errorf("%s: the table must sort by Time to expiry, ascending; options %s (%v)", expiryPanel, p.Options, err)
	}
	if body, _ := json.Marshal(p); !bytes.Contains(body, []byte(`"dtdurations"`)) {
		t.Errorf("%s: time to expiry must be shown in human units (dtdurations)", expiryPanel)
	}
}

// The checks above must catch a panel that queries a metric the exporter does
// not expose; this renames one in a copy of each dashboard to prove it.
func TestRenamedMetricIsCaught(t *testing.T) {
	for name, from := range map[string]string{
		FileName:             "vb365_data_retrieval_session_processed_objects",
		InstallationFileName: "vb365_job_last_session_transferred_bytes",
	} {
		t.Run(name, func(t *testing.T) {
			b, err := Files.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			checkRenameCaught(t, b, from, from+"_renamed")
		})
	}
}

func checkRenameCaught(t *testing.T, b []byte, from, to string) {
	if !bytes.Contains(b, []byte(from)) {
		t.Fatalf("dashboard does not use %s", from)
	}
	d, err := Parse(bytes.ReplaceAll(b, []byte(from), []byte(to)))
	if err != nil {
		t.Fatal(err)
	}
	known := exporterMetrics(t)
	caught := 0
	for _, q := range d.Queries() {
		for _, err := range metriccheck.Check(metriccheck.Expand(q.Expr, vars), known) {
			if !strings.Contains(err.Error(), to) {
				t.Errorf("unexpected error: %v", err)
			}
			caught++
		}
	}
	if caught == 0 {
		t.Fatalf("renaming %s to %s went unnoticed", from, to)
	}
}

func TestParseRejectsInvalidJSON(t *testing.T) {
	if _, err := Parse(JSON[:len(JSON)/2]); err == nil {
		t.Fatal("truncated dashboard parsed")
	}
}
