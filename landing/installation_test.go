package landing

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)> & "q"`

func finished(id, status string, end time.Time) *vb365.JobSession {
	return &vb365.JobSession{ID: vb365.ID(id), CreationTime: end.Add(-90 * time.Second), EndTime: end, Status: status, TransferredBytes: 3 << 30}
}

func job(id, name string, r server.JobResult) server.JobResult {
	r.Job = vb365.Job{ID: vb365.ID(id), Name: name, BackupType: "EntireOrganization", Enabled: true}
	return r
}

// installSnapshot is an installation with one of everything the page tells apart; the
// repositories collector failed, the proxies were not asked for.
func installSnapshot() *server.Snapshot {
	end := start.Add(-time.Hour)
	reason := func(msg string) *server.SessionLog {
		return &server.SessionLog{Errors: 1, Reason: &vb365.LogItem{Type: vb365.LogError, Message: msg}}
	}
	return &server.Snapshot{Server: "prod", Start: start, Up: true,
		Jobs: []server.JobResult{
			job("0b000000-0000-4000-8000-000000000001", "Teams", server.JobResult{LastFinished: finished("s1", "Success", end), LastSuccessEnd: end}),
			job("0b000000-0000-4000-8000-000000000002", "New tenant", server.JobResult{}),
			job("0b000000-0000-4000-8000-000000000003", "SharePoint", server.JobResult{LastFinished: finished("s3", "Warning", end),
				Log: &server.SessionLog{Warnings: 2, Reason: &vb365.LogItem{Type: vb365.LogWarning, Message: "3 sites skipped"}}}),
			job("0b000000-0000-4000-8000-000000000004", hostile, server.JobResult{LastFinished: finished("s4", "Failed", end), Log: reason(hostile),
				Running: &vb365.JobSession{ID: "s5", CreationTime: start.Add(-5 * time.Minute), Status: "Running", Progress: 40,
					TransferredBytes: 512 << 20, ProcessingRate: 2 << 20}}),
			job("0b000000-0000-4000-8000-000000000005", "Exchange", server.JobResult{LastFinished: finished("s6", "Failed", end)}),
			job("0b000000-0000-4000-8000-000000000006", "OneDrive", server.JobResult{LastFinished: finished("s7", "Failed", end),
				Log: &server.SessionLog{Err: vb365.ErrRequestTimeout, Reason: &vb365.LogItem{Message: "log could not be read: timeout"}}}),
		},
		License: &vb365.License{Status: "Valid", Type: "Subscription", LicensedTo: "Contoso", Expires: now.Add(10 * 24 * time.Hour),
			Licensed: 100, Used: 96},
		Repositories: []vb365.Repository{{ID: "4e000000-0000-4000-8000-000000000001", Name: "Primary", CapacityBytes: 10 << 40, FreeBytes: 512 << 30},
			{ID: "4e000000-0000-4000-8000-000000000002", Name: "Azure Blob"}},
		Collectors: []server.CollectorResult{{Name: "data_retrievals"}, {Name: "jobs"}, {Name: "license"},
			{Name: "repositories", Err: &vb365.APIError{Endpoint: "repositories", StatusCode: 403, Message: "Access <denied>"}}},
	}
}

// tableRows reads the table of class class as "cell|cell|…" lines.
func tableRows(t *testing.T, doc *html.Node, class string) []string {
	t.Helper()
	tables := findAll(doc, func(n *html.Node) bool { return element("table")(n) && hasClass(n, class) })
	if len(tables) != 1 {
		t.Fatalf("%d tables of class %s, want 1", len(tables), class)
	}
	var out []string
	for _, tr := range findAll(tables[0], element("tr")) {
		var cells []string
		for _, td := range findAll(tr, element("td")) {
			cells = append(cells, strings.Join(strings.Fields(text(td)), " "))
		}
		if cells != nil {
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}

func TestLandingPageShowsInstallation(t *testing.T) {
	r := get(t, newHandler(Server{Name: "prod", Last: installSnapshot()}), "/")
	jobs := tableRows(t, r.doc, "jobs")
	want := []string{
		// Failed first, then Warning, each with the reason its log gives; the rest in the
		// server's order, a job without a finished session included.
		hostile + " EntireOrganization · 0b000000-0000-4000-8000-000000000004|Failed Error: " + hostile + "|2026-03-01 10:59:18 +00:00|1m 30s|3.0 GiB|none on record",
		"Exchange EntireOrganization · 0b000000-0000-4000-8000-000000000005|Failed Log not read yet: a later scrape reads it.|2026-03-01 10:59:18 +00:00|1m 30s|3.0 GiB|none on record",
		"OneDrive EntireOrganization · 0b000000-0000-4000-8000-000000000006|Failed log could not be read: timeout|2026-03-01 10:59:18 +00:00|1m 30s|3.0 GiB|none on record",
		"SharePoint EntireOrganization · 0b000000-0000-4000-8000-000000000003|Warning Warning: 3 sites skipped|2026-03-01 10:59:18 +00:00|1m 30s|3.0 GiB|none on record",
		"Teams EntireOrganization · 0b000000-0000-4000-8000-000000000001|Success|2026-03-01 10:59:18 +00:00|1m 30s|3.0 GiB|2026-03-01 10:59:18 +00:00",
		"New tenant EntireOrganization · 0b000000-0000-4000-8000-000000000002|none on record||||none on record",
	}
	if strings.Join(jobs, "\n") != strings.Join(want, "\n") {
		t.Errorf("jobs table:\n%s\nwant:\n%s", strings.Join(jobs, "\n"), strings.Join(want, "\n"))
	}
	if got := tableRows(t, r.doc, "running"); len(got) != 1 || got[0] != hostile+"|Running|40 %|5m 00s|512.0 MiB|2.0 MiB/s" {
		t.Errorf("running sessions: %q", got)
	}
	license := findAll(r.doc, func(n *html.Node) bool { return element("dl")(n) && hasClass(n, "license") })
	if len(license) != 1 {
		t.Fatalf("%d license blocks", len(license))
	}
	if got := strings.Join(strings.Fields(text(license[0])), " "); got !=
		"Status Valid Type Subscription Licensed to Contoso Expiry expires in 10d 0h 2026-03-11 12:00:00 +00:00 Users 96 of 100 (96 %)" {
		t.Errorf("license: %q", got)
	}
	// The collector that failed says which and why; its kind's section is empty, not absent.
	failed := findAll(r.doc, func(n *html.Node) bool { return hasClass(n, "collector") })
	if len(failed) != 1 || text(failed[0]) != "repositories not read: HTTP 403 — "+(&vb365.APIError{Endpoint: "repositories", StatusCode: 403, Message: "Access <denied>"}).Error() {
		t.Errorf("failed collectors: %d, %q", len(failed), text(failed[0]))
	}
	for _, h := range []string{"Backup jobs", "Running sessions", "License", "Backup repositories"} {
		if !strings.Contains(r.body, "<h3>"+h+"</h3>") {
			t.Errorf("no %s section", h)
		}
	}
	// Proxies were not collected: no section claims there are none.
	if strings.Contains(r.body, "Backup proxies") {
		t.Error("a proxies section for a server that does not collect them")
	}
	for _, tag := range []string{"script", "img"} {
		if n := len(findAll(r.doc, element(tag))); n != 0 {
			t.Errorf("a job name or reason became %d <%s> elements", n, tag)
		}
	}
}

func TestLandingPageRepositoriesAndProxies(t *testing.T) {
	snap := installSnapshot()
	snap.Collectors = []server.CollectorResult{{Name: "repositories"}, {Name: "proxies"}}
	cpu := 12.5
	snap.Proxies = []vb365.Proxy{
		{ID: "9a000000-0000-4000-8000-000000000001", Host: "proxy01", Status: "Online", Maintenance: "Disabled", CPU: &cpu, Memory: &cpu},
		{ID: "9a000000-0000-4000-8000-000000000002", Host: `<i>proxy02</i>`, Status: "Offline"},
	}
	r := get(t, newHandler(Server{Name: "prod", Last: snap}), "/")
	repos := tableRows(t, r.doc, "repositories")
	// Below 10 % free is marked as VB365RepositoryAlmostFull fires; capacity 0 never is.
	if want := []string{"Primary 4e000000-0000-4000-8000-000000000001|10.0 TiB|512.0 GiB (5 %)|no",
		"Azure Blob 4e000000-0000-4000-8000-000000000002|not reported|0 B|no"}; strings.Join(repos, "\n") != strings.Join(want, "\n") {
		t.Errorf("repositories: %q", repos)
	}
	if full := findAll(r.doc, func(n *html.Node) bool { return element("td")(n) && hasClass(n, "exp-gone") }); len(full) != 1 {
		t.Errorf("%d repositories marked full, want 1", len(full))
	}
	proxies := tableRows(t, r.doc, "proxies")
	if want := []string{"proxy01 9a000000-0000-4000-8000-000000000001|Online|Disabled|12 %|12 %",
		"<i>proxy02</i> 9a000000-0000-4000-8000-000000000002|Offline||n/a|n/a"}; strings.Join(proxies, "\n") != strings.Join(want, "\n") {
		t.Errorf("proxies: %q", proxies)
	}
	if len(findAll(r.doc, element("i"))) != 0 {
		t.Error("a proxy's host name became markup")
	}
	if strings.Contains(r.body, "Backup jobs") || strings.Contains(r.body, "<h3>License") {
		t.Error("sections for kinds the server does not collect")
	}
}
