package landing

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/internal/domtest"

	"golang.org/x/net/html"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const htmlName = `<b>Teams & "Co"</b>`

var (
	now   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	start = now.Add(-42 * time.Second)
	cet   = time.FixedZone("", 3600)
)

func session(id, name, status string, created, ended time.Time) *vb365.Session {
	return &vb365.Session{ID: vb365.ID(id), Name: name, RetrievalID: "8a76872b-7f2c-4c50-95f4-92c4d41bc47c", CreationTime: created, EndTime: ended,
		Progress: 5, ProcessedObjects: 37, Type: "Retrieve", Status: status}
}

// prodSnapshot has a session of every kind the page distinguishes.
func prodSnapshot() *server.Snapshot {
	return &server.Snapshot{
		Server: "prod", Start: start, Duration: 1234 * time.Millisecond, Up: true,
		Sessions: []server.SessionResult{
			{ID: "668f478c-0326-440a-8bdf-58cf39163ea2", Session: session("668f478c-0326-440a-8bdf-58cf39163ea2", "Exchange data retrieval", "Success",
				time.Date(2022, 1, 28, 20, 52, 36, 917705300, cet), time.Date(2022, 1, 28, 20, 56, 17, 751345700, cet)), Cached: true},
			{ID: "11111111-1111-4111-8111-111111111111", Session: session("11111111-1111-4111-8111-111111111111", "OneDrive", "Running",
				start.Add(-10*time.Minute), time.Time{})},
			{ID: "55555555-5555-4555-8555-555555555555", Session: session("55555555-5555-4555-8555-555555555555", "Teams failed", "Failed",
				start.Add(-2*time.Hour), start.Add(-time.Hour))},
			{ID: "88888888-8888-4888-8888-888888888888", Session: session("88888888-8888-4888-8888-888888888888", htmlName, "Warning",
				start.Add(-2*time.Hour), start.Add(-time.Hour))},
			{ID: "99999999-9999-4999-8999-999999999999", Session: session("99999999-9999-4999-8999-999999999999", "From the future", "Paused",
				start.Add(-2*time.Hour), start.Add(-time.Hour))},
			{ID: "deadbeef-0000-4000-8000-000000000000", Err: &vb365.APIError{Endpoint: "session", StatusCode: 404, Message: "Data retrieval session not found."}},
			{ID: "deadbeef-0000-4000-8000-000000000001", Err: fmt.Errorf("no answer within the request timeout of 10s: %w", vb365.ErrRequestTimeout)},
			{ID: "deadbeef-0000-4000-8000-000000000002", Err: &vb365.APIError{Endpoint: "session", StatusCode: 500, Message: "<i>boom</i>"}},
		},
		Calls: []vb365.Call{
			{Method: "POST", Path: "/v6/token", Status: 200, Duration: 3 * time.Millisecond},
			{Method: "GET", Path: "/v6/DataRetrievalSessions/deadbeef-0000-4000-8000-000000000000", Status: 404, Duration: 2500 * time.Microsecond},
			{Method: "GET", Path: "/v6/DataRetrievalSessions/deadbeef-0000-4000-8000-000000000001", Status: 0, Duration: 10 * time.Second, Error: "timeout"},
		},
	}
}

func downSnapshot() *server.Snapshot {
	err := &vb365.AuthError{Err: &vb365.APIError{Endpoint: "token", StatusCode: 400, Message: "Invalid username or password."}, Until: now}
	return &server.Snapshot{Server: "backup", Start: start, Duration: 20 * time.Millisecond, Err: err,
		Sessions: []server.SessionResult{{ID: "668f478c-0326-440a-8bdf-58cf39163ea2", Err: err}}}
}

func newHandler(servers ...Server) *Handler {
	return New(Options{
		Name: "VB365 Exporter", Description: "test", Version: "(version=1.2.3)", MetricsPath: "/metrics", SDPath: "/sd", ProbePath: "/probe",
		Links:   []Link{{Address: "/metrics", Text: "Metrics"}, {Address: "/-/healthy", Text: "Health"}, {Address: "/-/ready", Text: "Readiness"}},
		Servers: func() []Server { return servers },
		now:     func() time.Time { return now },
	})
}

type response struct {
	code   int
	header http.Header
	body   string
	doc    *html.Node
}

func get(t *testing.T, h http.Handler, target string) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("page is not HTML: %v", err)
	}
	return response{code: rec.Code, header: rec.Header(), body: string(body), doc: doc}
}

// row is one session row as a reader sees it, keyed by the column headers.
type row struct {
	cells map[string]*html.Node
	class string
}

func (r row) text(col string) string {
	c, ok := r.cells[col]
	if !ok {
		return "<no column " + col + ">"
	}
	return text(c)
}

// sessionRows reads every sessions table of the page, by header text, so that a test fails
// when a column moves or loses its meaning, not only when markup changes.
func sessionRows(t *testing.T, doc *html.Node) map[string]row {
	t.Helper()
	rows := map[string]row{}
	for _, table := range findAll(doc, func(n *html.Node) bool { return element("table")(n) && hasClass(n, "sessions") }) {
		var headers []string
		for _, th := range findAll(table, element("th")) {
			headers = append(headers, text(th))
		}
		for _, tr := range findAll(table, element("tr")) {
			tds := findAll(tr, element("td"))
			if len(tds) == 0 {
				continue
			}
			r := row{cells: map[string]*html.Node{}, class: attr(tr, "class")}
			col := 0
			for _, td := range tds {
				// A cell spanning columns stands for each of them, as it does on screen.
				for range span(td) {
					if col >= len(headers) {
						t.Fatalf("row with more cells than the %d headers", len(headers))
					}
					r.cells[headers[col]] = td
					col++
				}
			}
			if col != len(headers) {
				t.Fatalf("row with %d cells under %d headers", col, len(headers))
			}
			rows[r.text("Session ID")] = r
		}
	}
	return rows
}

func span(td *html.Node) int {
	if n, err := strconv.Atoi(attr(td, "colspan")); err == nil && n > 0 {
		return n
	}
	return 1
}

func TestLandingPageShowsLastScrape(t *testing.T) {
	h := newHandler(Server{Name: "prod", URL: "https://vb365.example.local:4443", APIVersion: "v6", Last: prodSnapshot()})
	r := get(t, h, "/")
	if r.code != http.StatusOK {
		t.Fatalf("status %d", r.code)
	}
	page := text(r.doc)
	for _, want := range []string{"prod", "https://vb365.example.local:4443", "v6", "2026-03-01 11:59:18 UTC (42 s ago)", "Took 1.234 s", "vb365_up 1", "Sessions 8, 3 not read", "API calls 3"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	rows := sessionRows(t, r.doc)
	if len(rows) != 8 {
		t.Fatalf("%d session rows, want 8: %v", len(rows), rows)
	}
	for id, want := range map[string]struct{ status, class, reason string }{
		"668f478c-0326-440a-8bdf-58cf39163ea2": {"Success", "st-success", ""},
		"11111111-1111-4111-8111-111111111111": {"Running", "st-running", ""},
		"55555555-5555-4555-8555-555555555555": {"Failed", "st-failed", ""},
		"88888888-8888-4888-8888-888888888888": {"Warning", "st-warning", ""},
		"99999999-9999-4999-8999-999999999999": {"Paused", "st-other", ""},
		"deadbeef-0000-4000-8000-000000000000": {"not read", "st-notread", "not found — session: HTTP 404 Not Found: Data retrieval session not found."},
		"deadbeef-0000-4000-8000-000000000001": {"not read", "st-notread", "timeout — no answer within the request timeout of 10s: request timeout"},
		"deadbeef-0000-4000-8000-000000000002": {"not read", "st-notread", "HTTP 500 — session: HTTP 500 Internal Server Error: <i>boom</i>"},
	} {
		row, ok := rows[id]
		if !ok {
			t.Errorf("no row for %s", id)
			continue
		}
		badges := findAll(row.cells["Status"], func(n *html.Node) bool { return hasClass(n, "badge") })
		if len(badges) != 1 || !hasClass(badges[0], want.class) {
			t.Errorf("%s: status badge without class %s", id, want.class)
		} else if got := text(badges[0]); got != want.status {
			t.Errorf("%s: status %q, want %q", id, got, want.status)
		}
		if got := row.text("Not read because"); got != want.reason {
			t.Errorf("%s: reason %q, want %q", id, got, want.reason)
		}
	}
	ref := rows["668f478c-0326-440a-8bdf-58cf39163ea2"]
	for col, want := range map[string]string{
		"Name · type":     "Exchange data retrieval cached Retrieve",
		"Progress":        "5",
		"Objects":         "37",
		"Duration":        "3m 41s",
		"Created · ended": "2022-01-28 20:52:36 +01:00 2022-01-28 20:56:17 +01:00",
	} {
		if got := ref.text(col); got != want {
			t.Errorf("reference session %s = %q, want %q", col, got, want)
		}
	}
	// A running session's duration is measured at the scrape, like the metric.
	if got := rows["11111111-1111-4111-8111-111111111111"].text("Duration"); got != "10m 00s so far" {
		t.Errorf("running duration %q", got)
	}
	if got := rows["11111111-1111-4111-8111-111111111111"].text("Created · ended"); !strings.HasSuffix(got, "not ended") {
		t.Errorf("running session shows an end: %q", got)
	}
	if rows["deadbeef-0000-4000-8000-000000000000"].class != "notread" {
		t.Error("a session that was not read is not marked")
	}
	if order, want := sessionOrder(r.doc), []string{"deadbeef-0000-4000-8000-000000000000", "deadbeef-0000-4000-8000-000000000001", "deadbeef-0000-4000-8000-000000000002",
		"55555555-5555-4555-8555-555555555555", "88888888-8888-4888-8888-888888888888", "11111111-1111-4111-8111-111111111111",
		"668f478c-0326-440a-8bdf-58cf39163ea2", "99999999-9999-4999-8999-999999999999"}; strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("row order %v, want not read, Failed, Warning, Running, then the rest in config order: %v", order, want)
	}
	counts := findAll(r.doc, func(n *html.Node) bool { return hasClass(n, "counts") })
	if len(counts) != 1 || text(counts[0]) != "1 Running 1 Success 1 Failed 1 Warning 1 Paused" {
		t.Errorf("status counts wrong: %v", counts)
	}
	debug := findAll(r.doc, func(n *html.Node) bool { return element("a")(n) && attr(n, "href") == "?debug=prod" })
	if len(debug) != 1 {
		t.Error("no link to the debug page of prod")
	}
	for _, l := range []string{"/metrics", "/-/healthy", "/-/ready"} {
		if len(findAll(r.doc, func(n *html.Node) bool { return element("a")(n) && attr(n, "href") == l })) == 0 {
			t.Errorf("no link to %s", l)
		}
	}
}

func TestLandingPageEscapesAPIStrings(t *testing.T) {
	snap := prodSnapshot()
	h := newHandler(Server{Name: `<script>alert("x")</script>`, URL: "https://h:4443", APIVersion: "v8", Last: snap})
	r := get(t, h, "/")
	if strings.Contains(r.body, "<b>") || strings.Contains(r.body, "<i>") || strings.Contains(r.body, "<script") {
		t.Fatalf("markup from the API or config reached the page unescaped:\n%s", r.body)
	}
	row := sessionRows(t, r.doc)["88888888-8888-4888-8888-888888888888"]
	names := findAll(row.cells["Name · type"], func(n *html.Node) bool { return hasClass(n, "sname") })
	if len(names) != 1 || text(names[0]) != htmlName {
		t.Errorf("the name is not shown as the text %q", htmlName)
	}
	if len(findAll(row.cells["Name · type"], element("b"))) != 0 {
		t.Error("the name became a <b> element")
	}
	if !strings.Contains(text(r.doc), `<script>alert("x")</script>`) {
		t.Error("the server name is not shown as text")
	}
}

func TestLandingPageServerDownAndNotScraped(t *testing.T) {
	h := newHandler(
		Server{Name: "backup", URL: "https://backup:4443", APIVersion: "v7", Last: downSnapshot()},
		Server{Name: "new", URL: "https://new:4443", APIVersion: "v8"},
	)
	r := get(t, h, "/")
	sections := findAll(r.doc, func(n *html.Node) bool { return element("section")(n) && hasClass(n, "server") })
	if len(sections) != 2 {
		t.Fatalf("%d server sections, want 2", len(sections))
	}
	down := text(sections[0])
	for _, want := range []string{"backup down", "vb365_up 0",
		"authentication failed — token: HTTP 400 Bad Request: Invalid username or password. (check username and password"} {
		if !strings.Contains(down, want) {
			t.Errorf("down server lacks %q:\n%s", want, down)
		}
	}
	// The reason is said once per place it is shown (issue 20 point 5): the server's
	// error and the session's row.
	if n := strings.Count(down, "authentication failed"); n != 2 {
		t.Errorf("\"authentication failed\" %d times, want once for the server and once for its session:\n%s", n, down)
	}
	row := sessionRows(t, sections[0])["668f478c-0326-440a-8bdf-58cf39163ea2"]
	if got := row.text("Status"); got != "not read" {
		t.Errorf("status %q", got)
	}
	if got := row.text("Not read because"); !strings.HasPrefix(got, "authentication failed") {
		t.Errorf("reason %q", got)
	}
	fresh := text(sections[1])
	if !strings.Contains(fresh, "Not scraped yet") || strings.Contains(fresh, "vb365_up") {
		t.Errorf("an unscraped server shows scrape results:\n%s", fresh)
	}
	if len(findAll(sections[1], func(n *html.Node) bool { return element("a")(n) && attr(n, "href") == "/metrics" })) != 1 {
		t.Error("the unscraped server does not point to /metrics")
	}
}

func TestDebugPageShowsCalls(t *testing.T) {
	h := newHandler(
		Server{Name: "prod", URL: "https://vb365.example.local:4443", APIVersion: "v6", Last: prodSnapshot()},
		Server{Name: "backup", URL: "https://backup:4443", APIVersion: "v7", Last: downSnapshot()},
	)
	r := get(t, h, "/?debug=prod")
	if r.code != http.StatusOK {
		t.Fatalf("status %d", r.code)
	}
	tables := findAll(r.doc, func(n *html.Node) bool { return element("table")(n) && hasClass(n, "calls") })
	if len(tables) != 1 {
		t.Fatalf("%d call tables", len(tables))
	}
	var got []string
	for _, tr := range findAll(tables[0], element("tr"))[1:] {
		got = append(got, text(tr))
	}
	want := []string{
		"1 POST /v6/token 200 OK 3.0 ms",
		"2 GET /v6/DataRetrievalSessions/deadbeef-0000-4000-8000-000000000000 404 Not Found 2.5 ms",
		"3 GET /v6/DataRetrievalSessions/deadbeef-0000-4000-8000-000000000001 - no answer 10.000 s timeout",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(text(r.doc), "backup:4443") {
		t.Error("the debug page of prod shows another server")
	}
	// The server picker works without JavaScript: a GET form naming the debug parameter.
	forms := findAll(r.doc, element("form"))
	if len(forms) != 1 || attr(forms[0], "method") != "get" || len(findAll(forms[0], func(n *html.Node) bool { return attr(n, "name") == "debug" })) != 1 {
		t.Error("no server picker form")
	}
	selected := findAll(forms[0], func(n *html.Node) bool { return element("option")(n) && hasAttr(n, "selected") })
	if len(selected) != 1 || text(selected[0]) != "prod" {
		t.Error("the picker does not preselect prod")
	}
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func TestDebugPageUnknownServer(t *testing.T) {
	h := newHandler(Server{Name: "prod", Last: prodSnapshot()})
	r := get(t, h, "/?debug=%3Cimg%20src%3Dx%3E")
	if r.code != http.StatusNotFound {
		t.Errorf("status %d, want 404", r.code)
	}
	if strings.Contains(r.body, "<img") {
		t.Error("the debug parameter is echoed unescaped")
	}
	page := text(r.doc)
	if !strings.Contains(page, "No server named “<img src=x>”") || !strings.Contains(page, "Configured servers: prod") {
		t.Errorf("unhelpful 404:\n%s", page)
	}
}

func TestDebugPageCappedAndEmpty(t *testing.T) {
	many := prodSnapshot()
	many.Calls = make([]vb365.Call, server.MaxCalls)
	for i := range many.Calls {
		many.Calls[i] = vb365.Call{Method: "GET", Path: fmt.Sprintf("/v6/DataRetrievalSessions/%d", i), Status: 200}
	}
	cached := prodSnapshot()
	cached.Calls = nil
	h := newHandler(Server{Name: "many", Last: many}, Server{Name: "cached", Last: cached}, Server{Name: "new"})
	if page := text(get(t, h, "/?debug=many").doc); !strings.Contains(page, "keeps the first "+strconv.Itoa(server.MaxCalls)+" calls") {
		t.Error("a full call list does not say it may be cut")
	}
	if page := text(get(t, h, "/?debug=cached").doc); !strings.Contains(page, "made no API calls") {
		t.Error("a scrape without calls is not explained")
	}
	if page := text(get(t, h, "/?debug=new").doc); !strings.Contains(page, "Not scraped yet") {
		t.Error("an unscraped server is not explained")
	}
}

// The page must work offline and without JavaScript: no scripts, no external assets, and a
// policy that makes the browser refuse them should a later change add one.
func TestPageIsSelfContained(t *testing.T) {
	h := newHandler(Server{Name: "prod", URL: "https://vb365.example.local:4443", Last: prodSnapshot()})
	for _, target := range []string{"/", "/?debug=prod"} {
		r := get(t, h, target)
		csp := r.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: Content-Security-Policy %q", target, csp)
		}
		if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", target, ct)
		}
		if len(findAll(r.doc, element("script"))) != 0 || len(findAll(r.doc, element("link"))) != 0 || len(findAll(r.doc, element("img"))) != 0 {
			t.Errorf("%s: page has scripts, linked assets or images", target)
		}
		for _, n := range findAll(r.doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
			for _, a := range n.Attr {
				if (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.Contains(a.Val, "//") {
					t.Errorf("%s: <%s %s=%q> leaves the exporter", target, n.Data, a.Key, a.Val)
				}
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: event handler attribute %s", target, a.Key)
				}
			}
		}
	}
}

func TestOnlyRootIsThePage(t *testing.T) {
	h := newHandler()
	if r := get(t, h, "/favicon.ico"); r.code != http.StatusNotFound {
		t.Errorf("/favicon.ico: %d", r.code)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD /: %d with %d bytes", rec.Code, rec.Body.Len())
	}
	if page := text(get(t, h, "/").doc); !strings.Contains(page, "No servers configured") {
		t.Errorf("empty config not explained: %s", page)
	}
}

// Servers is asked on every request, so a reload shows without rebuilding the handler.
func TestPageFollowsServers(t *testing.T) {
	var servers []Server
	h := New(Options{Name: "x", Servers: func() []Server { return servers }})
	servers = []Server{{Name: "alpha"}}
	if !strings.Contains(text(get(t, h, "/").doc), "alpha") {
		t.Fatal("server alpha missing")
	}
	servers = []Server{{Name: "omega"}}
	if page := text(get(t, h, "/").doc); strings.Contains(page, "alpha") || !strings.Contains(page, "omega") {
		t.Errorf("page did not follow the servers: %s", page)
	}
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1500 * time.Millisecond: "2s", 220834 * time.Millisecond: "3m 41s", 26*time.Hour + 3*time.Minute + 4*time.Second: "26h 03m 04s",
		-time.Second: "0s",
	} {
		if got := sessionDuration(d); got != want {
			t.Errorf("sessionDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		500 * time.Microsecond: "500 µs", 2500 * time.Microsecond: "2.5 ms", 1234 * time.Millisecond: "1.234 s", 90 * time.Second: "1m30s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	if got := ago(-time.Second); got != "0 s ago" {
		t.Errorf("ago in the future: %q", got)
	}
	if got := ago(3 * time.Hour); got != "3h0m0s ago" {
		t.Errorf("ago(3h) = %q", got)
	}
	if statusClass("Success") != "st-success" || statusClass("NotConfigured") != "st-notconfigured" || statusClass("x") != "st-other" {
		t.Error("status classes wrong")
	}
}

// The DOM helpers are shared with the exporter's page tests.
var (
	hasClass = domtest.HasClass
	attr     = domtest.Attr
	findAll  = domtest.All
	element  = domtest.Tag
	text     = domtest.Text
)

// metaRefresh returns the content of the page's <meta http-equiv="refresh">, "" when none.
func metaRefresh(t *testing.T, doc *html.Node) string {
	t.Helper()
	metas := findAll(doc, func(n *html.Node) bool {
		return element("meta")(n) && strings.EqualFold(attr(n, "http-equiv"), "refresh")
	})
	switch len(metas) {
	case 0:
		return ""
	case 1:
		return attr(metas[0], "content")
	}
	t.Fatalf("%d refresh elements", len(metas))
	return ""
}

// A page left open follows new scrapes only when asked to, at a bounded rate.
func TestLandingPageRefresh(t *testing.T) {
	h := newHandler(Server{Name: "prod", Last: prodSnapshot()})
	for _, tc := range []struct{ query, want string }{
		{"/", ""},
		{"/?refresh=30", "30"},
		{"/?refresh=1", "5"},
		{"/?refresh=0", ""},
		{"/?refresh=-10", ""},
		{"/?refresh=999999", "3600"},
		{"/?refresh=abc", ""},
		{"/?refresh=30%22%3E%3Cscript%3E", ""},
		{"/?debug=prod&refresh=60", "60"},
	} {
		r := get(t, h, tc.query)
		if r.code != http.StatusOK {
			t.Fatalf("%s: status %d", tc.query, r.code)
		}
		if got := metaRefresh(t, r.doc); got != tc.want {
			t.Errorf("%s: refresh %q, want %q", tc.query, got, tc.want)
		}
	}
	// The page offers the choices, and a way back to off.
	links := map[string]bool{}
	for _, a := range findAll(get(t, h, "/?refresh=15").doc, element("a")) {
		links[attr(a, "href")] = true
	}
	for _, want := range []string{"?refresh=30", "?refresh=60", "./"} {
		if !links[want] {
			t.Errorf("no link to %s among %v", want, links)
		}
	}
}

// The page names the two other ways Prometheus can scrape the exporter: /sd and /probe.
func TestLandingPageLinksSDAndProbe(t *testing.T) {
	odd := `a b&c`
	h := newHandler(Server{Name: "prod", Last: prodSnapshot()}, Server{Name: odd})
	r := get(t, h, "/")
	hrefs := map[string]int{}
	for _, a := range findAll(r.doc, element("a")) {
		// Compare what a browser requests, not how the query is spelled.
		u, err := url.Parse(attr(a, "href"))
		if err != nil {
			t.Fatal(err)
		}
		link := u.Path
		if u.RawQuery != "" {
			link += "?" + u.Query().Encode()
		}
		hrefs[link]++
	}
	for _, want := range []string{"/sd", "/probe?server=prod", "/probe?" + url.Values{"server": {odd}}.Encode()} {
		if hrefs[want] == 0 {
			t.Errorf("no link to %s; links: %v", want, hrefs)
		}
	}
	// Paths follow the options, for an exporter mounted elsewhere.
	h2 := New(Options{SDPath: "/x/sd", ProbePath: "/x/probe", Servers: func() []Server { return []Server{{Name: "prod"}} }})
	r = get(t, h2, "/")
	if !strings.Contains(r.body, `href="/x/sd"`) || !strings.Contains(r.body, `href="/x/probe?server=prod"`) {
		t.Errorf("paths from the options not linked:\n%s", r.body)
	}
}
