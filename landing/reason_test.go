package landing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// sessionOrder returns the session IDs of the page's sessions tables, top to bottom.
func sessionOrder(doc *html.Node) []string {
	var ids []string
	for _, table := range findAll(doc, func(n *html.Node) bool { return element("table")(n) && hasClass(n, "sessions") }) {
		for _, tr := range findAll(table, element("tr")) {
			if tds := findAll(tr, element("td")); len(tds) > 0 {
				ids = append(ids, text(tds[0]))
			}
		}
	}
	return ids
}

// ended is a session of status that ended an hour before the scrape, with log l.
func ended(id, status string, l *server.SessionLog) server.SessionResult {
	return server.SessionResult{ID: vb365.ID(id), Session: session(id, "retrieval "+id, status, start.Add(-2*time.Hour), start.Add(-time.Hour)), Log: l}
}

func notRead(id string) server.SessionResult {
	return server.SessionResult{ID: vb365.ID(id), Err: &vb365.APIError{Endpoint: "session", StatusCode: 404, Message: "not found"}}
}

func running(id string) server.SessionResult {
	return server.SessionResult{ID: vb365.ID(id), Session: session(id, "retrieval "+id, "Running", start.Add(-time.Hour), time.Time{})}
}

func TestLandingPageSessionOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sessions []server.SessionResult
		want     []string
	}{
		{"by status", []server.SessionResult{ended("success", "Success", nil), running("running"), ended("warning", "Warning", nil),
			ended("stopped", "Stopped", nil), ended("failed", "Failed", nil), ended("paused", "Paused", nil)},
			[]string{"failed", "warning", "running", "success", "stopped", "paused"}},
		{"not read first, config order within a status", []server.SessionResult{ended("failed-1", "Failed", nil), ended("success", "Success", nil),
			notRead("gone-1"), running("running"), ended("failed-2", "Failed", nil), notRead("gone-2"), ended("warning", "Warning", nil)},
			[]string{"gone-1", "gone-2", "failed-1", "failed-2", "warning", "running", "success"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := &server.Snapshot{Server: "prod", Start: start, Up: true, Sessions: tc.sessions}
			got := sessionOrder(get(t, newHandler(Server{Name: "prod", Last: snap}), "/").doc)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("order %v, want %v", got, tc.want)
			}
		})
	}
}

// statusCell returns what the Status cell of session id says: its badge, the reason line,
// the hint line and the counts line ("" when absent).
func statusCell(t *testing.T, doc *html.Node, id string) (badge, reason, hint, counts string) {
	t.Helper()
	row, ok := sessionRows(t, doc)[id]
	if !ok {
		t.Fatalf("no row for %s", id)
	}
	one := func(class string) string {
		n := findAll(row.cells["Status"], func(n *html.Node) bool { return hasClass(n, class) })
		switch len(n) {
		case 0:
			return ""
		case 1:
			return text(n[0])
		}
		t.Errorf("%s: %d elements of class %s", id, len(n), class)
		return ""
	}
	return one("badge"), one("logreason"), one("loghint"), one("logcounts")
}

func TestLandingPageShowsSessionReason(t *testing.T) {
	const failedWhy = "Failed to access Azure storage account vb365archive: Server failed to authenticate the request. (AuthenticationFailed)"
	const warningWhy = "3 items of mailbox Sales could not be processed"
	snap := &server.Snapshot{Server: "prod", Start: start, Up: true, Sessions: []server.SessionResult{
		ended("failed", "Failed", &server.SessionLog{Reason: &vb365.LogItem{Type: vb365.LogError, Message: failedWhy}, Errors: 2, Warnings: 1}),
		ended("warning", "Warning", &server.SessionLog{Reason: &vb365.LogItem{Type: vb365.LogWarning, Message: warningWhy}, Warnings: 1}),
		ended("failed-no-item", "Failed", &server.SessionLog{}),
		ended("failed-unread", "Failed", nil),
		ended("warning-unread", "Warning", nil),
		ended("failed-broken-log", "Failed", &server.SessionLog{Err: errors.New("HTTP 500"), Reason: &vb365.LogItem{Message: "log could not be read: HTTP 500"}}),
		ended("success", "Success", nil),
		running("running"),
	}}
	doc := get(t, newHandler(Server{Name: "prod", Last: snap}), "/").doc
	for _, tc := range []struct {
		id, badge, reason, hint, counts string
	}{
		{"failed", "Failed", "Error: " + failedWhy, "", "2 errors, 1 warning in the log"},
		{"warning", "Warning", "Warning: " + warningWhy, "", "0 errors, 1 warning in the log"},
		{"failed-no-item", "Failed", "", "The session's log has no error or warning.", "0 errors, 0 warnings in the log"},
		{"failed-unread", "Failed", "", "Log not read yet: a later scrape reads it.", ""},
		{"warning-unread", "Warning", "", "Log not read yet: a later scrape reads it.", ""},
		{"failed-broken-log", "Failed", "log could not be read: HTTP 500", "", ""},
		{"success", "Success", "", "", ""},
		{"running", "Running", "", "", ""},
	} {
		badge, reason, hint, counts := statusCell(t, doc, tc.id)
		if badge != tc.badge || reason != tc.reason || hint != tc.hint || counts != tc.counts {
			t.Errorf("%s: status %q, reason %q, hint %q, counts %q\nwant %q, %q, %q, %q",
				tc.id, badge, reason, hint, counts, tc.badge, tc.reason, tc.hint, tc.counts)
		}
	}
}

func TestLandingPageEscapesReason(t *testing.T) {
	const why = `<script>alert("x")</script><img src=x onerror=alert(1)> <b>bold</b> & "quoted"`
	snap := &server.Snapshot{Server: "prod", Start: start, Up: true, Sessions: []server.SessionResult{
		ended("failed", "Failed", &server.SessionLog{Reason: &vb365.LogItem{Type: vb365.LogError, Message: why}, Errors: 1}),
	}}
	r := get(t, newHandler(Server{Name: "prod", Last: snap}), "/")
	for _, markup := range []string{"<script", "<img", "<b>"} {
		if strings.Contains(r.body, markup) {
			t.Errorf("the reason's %s reached the page unescaped", markup)
		}
	}
	for _, tag := range []string{"script", "img", "b"} {
		if n := len(findAll(r.doc, element(tag))); n != 0 {
			t.Errorf("the reason became %d <%s> elements", n, tag)
		}
	}
	if _, reason, _, _ := statusCell(t, r.doc, "failed"); reason != "Error: "+why {
		t.Errorf("reason shown as %q, want the text %q", reason, "Error: "+why)
	}
}

// retrievalRows reads the data retrieval table of the page as "name|type|state|expiry" lines.
func retrievalRows(t *testing.T, n *html.Node) []string {
	t.Helper()
	tables := findAll(n, func(n *html.Node) bool { return element("table")(n) && hasClass(n, "retrievals") })
	if len(tables) != 1 {
		t.Fatalf("%d retrieval tables, want 1", len(tables))
	}
	var out []string
	for _, tr := range findAll(tables[0], element("tr")) {
		var cells []string
		for _, td := range findAll(tr, element("td")) {
			cells = append(cells, text(td))
		}
		if cells != nil {
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}

func TestLandingPageRetrievalsByExpiry(t *testing.T) {
	retrieval := func(id, name, state string, expires time.Time) vb365.Retrieval {
		return vb365.Retrieval{ID: vb365.ID(id), Name: name, Type: "Exchange", DataState: state, ExpirationTime: expires}
	}
	snap := &server.Snapshot{Server: "prod", Start: start, Up: true, Retrievals: []vb365.Retrieval{
		retrieval("r-zulu", "Zulu", "Retrieving", time.Time{}),
		retrieval("r-later", "Later", "Retrieved", now.Add(3*24*time.Hour+2*time.Hour)),
		retrieval("r-gone", "Gone", "Retrieved", now.Add(-2*time.Hour)),
		retrieval("r-soon", "Soon", "ChangingAvailabilityPeriod", now.Add(5*time.Hour+30*time.Minute)),
		retrieval("r-alpha", "Alpha", "Retrieving", time.Time{}),
	}}
	snap.RetrievalsDropped = 2
	other := &server.Snapshot{Server: "backup", Start: start, Up: true, RetrievalsErr: &vb365.APIError{Endpoint: "retrievals", StatusCode: 500, Message: "<i>boom</i>"}}
	down := downSnapshot()
	down.RetrievalsErr = down.Err
	empty := &server.Snapshot{Server: "empty", Start: start, Up: true}
	doc := get(t, newHandler(Server{Name: "prod", Last: snap}, Server{Name: "backup", Last: other},
		Server{Name: "down", Last: down}, Server{Name: "empty", Last: empty}), "/").doc
	sections := findAll(doc, func(n *html.Node) bool { return element("section")(n) && hasClass(n, "server") })
	if len(sections) != 4 {
		t.Fatalf("%d server sections", len(sections))
	}
	want := []string{
		"Gone r-gone|Exchange|Retrieved|expired 2h 00m ago 2026-03-01 10:00:00 +00:00",
		"Soon r-soon|Exchange|ChangingAvailabilityPeriod|expires in 5h 30m 2026-03-01 17:30:00 +00:00",
		"Later r-later|Exchange|Retrieved|expires in 3d 2h 2026-03-04 14:00:00 +00:00",
		"Alpha r-alpha|Exchange|Retrieving|no expiry",
		"Zulu r-zulu|Exchange|Retrieving|no expiry",
	}
	if got := retrievalRows(t, sections[0]); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("retrievals:\n%s\nwant soonest expiry first, those without one last:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Colour says what needs doing: expired, and expiring within the alert's default day.
	for class, want := range map[string]string{"exp-gone": "expired 2h 00m ago", "exp-soon": "expires in 5h 30m"} {
		n := findAll(sections[0], func(n *html.Node) bool { return hasClass(n, class) })
		if len(n) != 1 || text(n[0]) != want {
			t.Errorf("class %s on %d elements, want one: %q", class, len(n), want)
		}
	}
	if s := text(sections[0]); !strings.Contains(s, "2 more data retrievals are beyond max_retrievals and not shown.") {
		t.Errorf("the retrievals beyond max_retrievals are not mentioned:\n%s", s)
	}
	if s := text(sections[1]); !strings.Contains(s, "data retrievals not read: retrievals: HTTP 500 Internal Server Error: <i>boom</i>") {
		t.Errorf("a server whose retrievals could not be read does not say so:\n%s", s)
	}
	// A server that is down says why once; the retrievals refer to it.
	if _, s, _ := strings.Cut(text(sections[2]), "Data retrievals "); s != "Not read: authentication failed, as the server's error above says." {
		t.Errorf("down server's retrievals:\n%s", s)
	}
	if s := text(sections[3]); !strings.Contains(s, "Data retrievals The server has no data retrievals.") {
		t.Errorf("a server without retrievals does not say so:\n%s", s)
	}
}
