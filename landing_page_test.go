package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/internal/domtest"

	"golang.org/x/net/html"

	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// pageRow is one row of a sessions table, its cells keyed by column header.
type pageRow map[string]*html.Node

func (r pageRow) text(col string) string {
	if c, ok := r[col]; ok {
		return domText(c)
	}
	return "<no column " + col + ">"
}

// serverSection returns the landing page's section of the named server.
func serverSection(t *testing.T, doc *html.Node, name string) *html.Node {
	t.Helper()
	for _, s := range domAll(doc, domTag("section")) {
		if domAttr(s, "id") == "server-"+name {
			return s
		}
	}
	t.Fatalf("no section for server %s", name)
	return nil
}

// sessionTable reads the sessions table of a section by its headers, keyed by session ID.
func sessionTable(t *testing.T, section *html.Node) map[string]pageRow {
	t.Helper()
	rows := map[string]pageRow{}
	for _, table := range domAll(section, func(n *html.Node) bool { return domTag("table")(n) && domClass("sessions")(n) }) {
		var headers []string
		for _, th := range domAll(table, domTag("th")) {
			headers = append(headers, domText(th))
		}
		for _, tr := range domAll(table, domTag("tr")) {
			tds := domAll(tr, domTag("td"))
			if len(tds) == 0 {
				continue
			}
			r := pageRow{}
			col := 0
			for _, td := range tds {
				// A cell spanning columns stands for each of them, as it does on screen.
				n, err := strconv.Atoi(domAttr(td, "colspan"))
				if err != nil || n < 1 {
					n = 1
				}
				for range n {
					if col >= len(headers) {
						t.Fatalf("row with more cells than the %d headers", len(headers))
					}
					r[headers[col]] = td
					col++
				}
			}
			if col != len(headers) {
				t.Fatalf("row with %d cells under %d headers", col, len(headers))
			}
			id := r.text("Session ID")
			if _, dup := rows[id]; dup {
				t.Errorf("session %s shown twice", id)
			}
			rows[id] = r
		}
	}
	return rows
}

func getPage(t *testing.T, url string) (int, string, *html.Node) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), doc
}

// statusesOf returns, per session, the status the scrape reported (the state set's 1).
func statusesOf(r scrapeResult) map[string]string {
	out := map[string]string{}
	mf := r.fams["vb365_data_retrieval_session_status"]
	if mf == nil {
		return out
	}
	for _, m := range mf.Metric {
		if m.GetGauge().GetValue() != 1 {
			continue
		}
		var id, status string
		for _, lp := range m.Label {
			switch lp.GetName() {
			case "session_id":
				id = lp.GetValue()
			case "status":
				status = lp.GetValue()
			}
		}
		out[id] = status
	}
	return out
}

// statusBadge is the status a row shows, without the reason under it.
func statusBadge(r pageRow) string {
	if b := domAll(r["Status"], domClass("badge")); len(b) == 1 {
		return domText(b[0])
	}
	return "<no status badge>"
}

// checkDemoReasons checks what the page shows of the demo's logs and retrievals after one
// scrape: the reason of the finished Failed and Warning sessions under their status, as text,
// (the Warning one holds "<sales@…>", which must stay text), and the data retrievals soonest
// expiry first.
func checkDemoReasons(t *testing.T, section *html.Node) {
	t.Helper()
	rows := sessionTable(t, section)
	for id, want := range map[string]string{
		simulator.DemoFailedID:  "Error: " + vb365.ReasonMessage(simulator.DemoFailedReason),
		simulator.DemoWarningID: "Warning: " + vb365.ReasonMessage(simulator.DemoWarningReason),
	} {
		reasons := domAll(rows[id]["Status"], domClass("logreason"))
		if len(reasons) != 1 || domText(reasons[0]) != want {
			t.Errorf("session %s: status cell %q, want the reason %q under the status", id, rows[id].text("Status"), want)
		}
	}
	var got []string
	for _, table := range domAll(section, func(n *html.Node) bool { return domTag("table")(n) && domClass("retrievals")(n) }) {
		for _, tr := range domAll(table, domTag("tr")) {
			if tds := domAll(tr, domTag("td")); len(tds) == 4 {
				got = append(got, domText(domAll(tds[0], domClass("rname"))[0])+" | "+domText(domAll(tds[3], domClass("expiry"))[0]))
			}
		}
	}
	if len(got) != 3 || !strings.HasPrefix(got[0], "Exchange retrieval | expires in ") ||
		got[1] != "OneDrive retrieval | no expiry" || got[2] != "Teams retrieval | no expiry" {
		t.Errorf("data retrievals %q, want the one that expires first, then the others by name", got)
	}
}

// checkSessionRows compares the page's sessions table with the scrape it shows and with the
// simulator, so that a lost session or a wrong status fails.
func checkSessionRows(t *testing.T, rows map[string]pageRow, scraped scrapeResult, sim *simulator.Simulator, ids []string) {
	t.Helper()
	fromMetrics := statusesOf(scraped)
	if len(rows) != len(ids) {
		t.Errorf("page shows %d sessions, config has %d", len(rows), len(ids))
	}
	for _, id := range ids {
		row, ok := rows[id]
		if !ok {
			t.Errorf("session %s missing from the page", id)
			continue
		}
		got := statusBadge(row)
		want, known := sim.Session(id)
		if !known {
			if got != "not read" || !strings.HasPrefix(row.text("Not read because"), "not found — session: HTTP 404") {
				t.Errorf("unknown session %s: status %q, reason %q", id, got, row.text("Not read because"))
			}
			continue
		}
		if got != fromMetrics[id] {
			t.Errorf("session %s: page says %q, the same scrape's metrics say %q", id, got, fromMetrics[id])
		}
		// The running demo sessions end minutes after loading, long after this test.
		if got != want.Status {
			t.Errorf("session %s: page says %q, simulator has %q", id, got, want.Status)
		}
		if name := domAll(row["Name · type"], domClass("sname")); len(name) != 1 || domText(name[0]) != want.Name {
			t.Errorf("session %s: name %q, simulator has %q", id, row.text("Name · type"), want.Name)
		}
	}
}

// TestLandingPageReflectsLastScrape runs the whole exporter: the page shows the last scrape,
// costs no API call, and shows no secret, for a good and a refused server.
func TestLandingPageReflectsLastScrape(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	ids := append(simulator.DemoSessionIDs(), unknownID)
	cfg := writeConfig(t, t.TempDir(),
		serverSpec{name: "good", version: "v8", sim: sim, sessions: ids},
		serverSpec{name: "bad", sim: sim, password: simPassword + "-wrong", sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg)

	_, _, doc := getPage(t, exp.url+"/")
	for _, name := range []string{"good", "bad"} {
		if s := domText(serverSection(t, doc, name)); !strings.Contains(s, "Not scraped yet") {
			t.Errorf("%s before the first scrape: %s", name, s)
		}
	}
	if n := sim.sim.Stats().Total; n != 0 {
		t.Fatalf("opening the page before a scrape made %d API calls", n)
	}

	scraped := scrape(t, exp.url+"/metrics", nil)
	before := sim.sim.Stats().Total
	var pages []string
	code, body, doc := getPage(t, exp.url+"/")
	pages = append(pages, body)
	if code != http.StatusOK {
		t.Fatalf("/: %d", code)
	}
	checkSessionRows(t, sessionTable(t, serverSection(t, doc, "good")), scraped, sim.sim, ids)
	checkDemoReasons(t, serverSection(t, doc, "good"))
	// The installation, from the same scrape: the demo's Failed job first, with its reason.
	if s := domText(serverSection(t, doc, "good")); !strings.Contains(s, "Contoso Exchange daily") ||
		!strings.Contains(s, "Error: Failed to connect to Exchange Online") || !strings.Contains(s, "Backup repositories") {
		t.Errorf("the installation is not on the page: %s", s)
	}
	bad := serverSection(t, doc, "bad")
	if s := domText(bad); !strings.Contains(s, "bad down") || !strings.Contains(s, "authentication failed — token: HTTP 400 Bad Request: Invalid username or password. (check username and password") ||
		strings.Contains(s, "authentication failed — authentication failed") {
		t.Errorf("refused server not explained: %s", s)
	}
	if r := sessionTable(t, bad)[simulator.ReferenceSessionID]; r.text("Status") != "not read" || !strings.HasPrefix(r.text("Not read because"), "authentication failed") {
		t.Errorf("session of the refused server: %q / %q", r.text("Status"), r.text("Not read because"))
	}

	code, body, doc = getPage(t, exp.url+"/?debug=good")
	pages = append(pages, body)
	if code != http.StatusOK {
		t.Fatalf("/?debug=good: %d", code)
	}
	calls := domAll(doc, func(n *html.Node) bool { return domTag("table")(n) && domClass("calls")(n) })
	if len(calls) != 1 {
		t.Fatalf("%d call tables", len(calls))
	}
	var lines []string
	for _, tr := range domAll(calls[0], domTag("tr"))[1:] {
		lines = append(lines, domText(tr))
	}
	// The token, one GET per session, the data retrieval list, and the logs of the demo's
	// two finished Failed and Warning sessions; then the installation: the job list, one
	// session list per demo job (seven), the logs of the Failed and Warning jobs' latest
	// sessions, the license, the repositories, the proxies and the organizations (their
	// licensing, usage and users are read in the background, not by the scrape); the
	// restores' first read (v8: those that ended within the window, then those that started
	// within it and a day before).
	const installCalls, restoreCalls = 1 + 7 + 2 + 3 + 1, 2
	if len(lines) != 4+len(ids)+installCalls+restoreCalls || !strings.HasPrefix(lines[0], "1 POST /v8/token 200 OK ") {
		t.Errorf("calls of the scrape:\n%s", strings.Join(lines, "\n"))
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "GET /v8/DataRetrievals?limit=10000&offset=0 200 OK") {
		t.Errorf("no call for the data retrievals in:\n%s", all)
	}
	for _, id := range ids {
		want := "GET /v8/DataRetrievalSessions/" + id + " 200 OK"
		if id == unknownID {
			want = "GET /v8/DataRetrievalSessions/" + id + " 404 Not Found"
		}
		if !strings.Contains(all, want) {
			t.Errorf("no call %q in:\n%s", want, all)
		}
	}
	code, body, _ = getPage(t, exp.url+"/?debug=bad")
	pages = append(pages, body)
	if code != http.StatusOK || !strings.Contains(body, "/v6/token") || !strings.Contains(body, "400") {
		t.Errorf("/?debug=bad: %d, no refused token call", code)
	}
	if after := sim.sim.Stats().Total; after != before {
		t.Errorf("opening the pages made %d API calls; they must only show the last scrape", after-before)
	}

	everything := strings.Join(pages, "\n")
	if strings.Contains(everything, simPassword) {
		t.Error("the password is on a page")
	}
	for _, tok := range sim.spy.issued() {
		if strings.Contains(everything, tok) {
			t.Error("a token is on a page")
		}
	}
}

// The DOM helpers are shared with the landing package's tests.
var (
	domAll   = domtest.All
	domTag   = domtest.Tag
	domClass = domtest.Class
	domAttr  = domtest.Attr
	domText  = domtest.Text
)
