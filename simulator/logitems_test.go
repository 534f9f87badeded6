package simulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

type logPage struct {
	Offset     int             `json:"offset"`
	Limit      int             `json:"limit"`
	TotalCount *int            `json:"totalCount"`
	Results    []logItemAnswer `json:"results"`
	Links      map[string]struct {
		Href string `json:"href"`
	} `json:"_links"`
}

type logItemAnswer struct {
	ID           string `json:"id"`
	USN          int64  `json:"usn"`
	Type         string `json:"type"`
	Message      string `json:"message"`
	Title        string `json:"title"`
	CreationTime string `json:"creationTime"`
}

func logPath(ver, id string) string { return "/" + ver + "/DataRetrievalSessions/" + id + "/LogItems" }

// Every LogItems answer, good or bad, must match Veeam's documents for the version: the page
// and its items for 200, RESTExceptionInfo otherwise. The validator rejects undocumented
// properties, so v6/v7 sending v8's type/message (or v8 sending totalCount) fails here.
func TestLogItemsMatchDocumentedSchema(t *testing.T) {
	for _, ver := range versions {
		t.Run(ver, func(t *testing.T) {
			e := newEnv(t, nil)
			e.sim.LoadDemoData()
			doc := loadOpenAPI(t, ver)
			v := &validator{doc: doc}
			tok := e.login(ver).AccessToken
			check := func(path, token string, wantStatus int) response {
				t.Helper()
				r := e.get(path, token)
				if r.status != wantStatus {
					t.Fatalf("%s: status %d, want %d: %s", path, r.status, wantStatus, r.body)
				}
				schema := doc.Components.Schemas["RESTExceptionInfo"]
				if r.status == http.StatusOK {
					schema = doc.Components.Schemas["PageOfRESTLogItem"]
				}
				if ct := r.header.Get("Content-Type"); ct != jsonContentType {
					t.Errorf("%s: Content-Type %q", path, ct)
				}
				if errs := v.validateJSON(schema, r.body); len(errs) != 0 {
					t.Errorf("%s %d does not match the documented schema:\n  %s\nbody: %s", path, r.status, strings.Join(errs, "\n  "), r.body)
				}
				return r
			}
			for _, id := range []string{DemoFailedID, DemoWarningID, DemoStoppedID, ReferenceSessionID, DemoNotConfiguredID} {
				check(logPath(ver, id), tok, http.StatusOK)
				check(logPath(ver, id)+"?limit=2&offset=1", tok, http.StatusOK)
			}
			r := check(logPath(ver, DemoFailedID), tok, http.StatusOK)
			var p logPage
			mustJSON(t, r.body, &p)
			if len(p.Results) == 0 {
				t.Fatal("the demo's Failed session has no log")
			}
			if (p.TotalCount != nil) != (ver != "v8") {
				t.Errorf("totalCount present = %v on %s", p.TotalCount != nil, ver)
			}
			for _, it := range p.Results {
				if ver == "v8" && (it.Type == "" || it.Message == "" || it.Title != "") ||
					ver != "v8" && (it.Title == "" || it.Type != "" || !strings.HasPrefix(it.Title, "[")) {
					t.Errorf("%s item %+v", ver, it)
				}
			}
			check(logPath(ver, "not-a-uuid"), tok, http.StatusBadRequest)
			check(logPath(ver, "00000000-0000-4000-8000-000000000000"), tok, http.StatusNotFound)
			check(logPath(ver, DemoFailedID)+"?limit=10001", tok, http.StatusBadRequest)
			check(logPath(ver, DemoFailedID)+"?offset=-1", tok, http.StatusBadRequest)
			check(logPath(ver, DemoFailedID), "", http.StatusUnauthorized)
			if ver == "v8" {
				check(logPath(ver, DemoFailedID)+"?orderAsc=False", tok, http.StatusOK)
				check(logPath(ver, DemoFailedID)+"?orderAsc=maybe", tok, http.StatusBadRequest)
			} else {
				// Versions without the parameter ignore it, as ASP.NET does unknown ones.
				check(logPath(ver, DemoFailedID)+"?orderAsc=maybe", tok, http.StatusOK)
			}
		})
	}
}

func (e *env) logItems(ver, tok, query string) logPage {
	e.t.Helper()
	r := e.get(logPath(ver, ReferenceSessionID)+query, tok)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s%s: %d %s", ver, query, r.status, r.body)
	}
	var p logPage
	mustJSON(e.t, r.body, &p)
	return p
}

func usns(p logPage) string {
	var s []string
	for _, it := range p.Results {
		s = append(s, fmt.Sprint(it.USN))
	}
	return strings.Join(s, ",")
}

func TestLogItemsOrderAndPaging(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.sim.AddSession(ReferenceSession()); err != nil {
		t.Fatal(err)
	}
	base := ReferenceSession().CreationTime
	// Given out of order, with two items sharing a creation time: usn breaks the tie.
	items := []LogItem{
		{USN: 3, Type: LogWarning, Message: "third", CreationTime: base.Add(2 * time.Second)},
		{USN: 1, Type: LogSuccess, Message: "first", CreationTime: base},
		{USN: 5, Type: LogError, Message: "fifth", CreationTime: base.Add(3 * time.Second)},
		{USN: 2, Type: LogRunning, Message: "second", CreationTime: base.Add(2 * time.Second)},
		{USN: 4, Type: LogSuccess, Message: "fourth", CreationTime: base.Add(3 * time.Second)},
	}
	// 2 before 3 at the same time; 4 before 5 at the same time.
	items[3].CreationTime = items[0].CreationTime
	if err := e.sim.SetLogItems(ReferenceSessionID, items); err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, ver := range versions {
		tokens[ver] = e.login(ver).AccessToken
	}
	for _, tc := range []struct{ ver, query, want string }{
		{"v8", "", "1,2,3,4,5"},
		{"v8", "?orderAsc=true", "1,2,3,4,5"},
		{"v8", "?orderAsc=false", "5,4,3,2,1"},
		{"v6", "", "5,4,3,2,1"},
		{"v7", "?orderAsc=true", "5,4,3,2,1"},
		{"v8", "?offset=1&limit=2", "2,3"},
		{"v8", "?offset=4&limit=2", "5"},
		{"v8", "?offset=9", ""},
		{"v6", "?offset=3", "2,1"},
	} {
		if got := usns(e.logItems(tc.ver, tokens[tc.ver], tc.query)); got != tc.want {
			t.Errorf("%s%s: usn %s, want %s", tc.ver, tc.query, got, tc.want)
		}
	}
	p := e.logItems("v7", tokens["v7"], "")
	if p.Limit != 30 || p.Offset != 0 || p.TotalCount == nil || *p.TotalCount != 5 {
		t.Errorf("v7 defaults: offset %d limit %d totalCount %v", p.Offset, p.Limit, p.TotalCount)
	}
	if p.Results[0].Title != "[Error] fifth" {
		t.Errorf("v7 title %q, want the type in brackets before the message", p.Results[0].Title)
	}
	// Following next links visits every item once, for every version's order.
	for _, ver := range versions {
		var seen []string
		next := logPath(ver, ReferenceSessionID) + "?limit=2"
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatalf("%s: paging does not end", ver)
			}
			r := e.get(next, tokens[ver])
			var p logPage
			mustJSON(t, r.body, &p)
			for _, it := range p.Results {
				seen = append(seen, fmt.Sprint(it.USN))
			}
			next = p.Links["next"].Href
		}
		if len(seen) != 5 {
			t.Errorf("%s: paging saw %v", ver, seen)
		}
	}
}

// A running session's log grows with the clock: items of its future are not served yet.
func TestLogItemsAppearAsTheClockPasses(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v8").AccessToken
	count := func() (n int, last string) {
		r := e.get(logPath("v8", DemoRunningFailedID), tok)
		var p logPage
		mustJSON(t, r.body, &p)
		if len(p.Results) > 0 {
			last = p.Results[len(p.Results)-1].Message
		}
		return len(p.Results), last
	}
	n, last := count()
	if n == 0 || last == DemoRunningFailedReason {
		t.Fatalf("before the session ends: %d items, last %q", n, last)
	}
	e.clock.Advance(4 * time.Minute)
	if sess, _ := e.sim.Session(DemoRunningFailedID); sess.Status != StatusFailed {
		t.Fatalf("the demo session did not end Failed: %s", sess.Status)
	}
	if n2, last := count(); n2 <= n || last != DemoRunningFailedReason {
		t.Errorf("after the session ended: %d items, last %q", n2, last)
	}
}

// The last Error of the demo's Failed session and the last Warning of its Warning session are
// the documented reasons, and neither is the last item of its log by accident of order.
func TestDemoLogsCarryTheReasons(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	e.clock.Advance(10 * time.Minute) // the running demo sessions have ended
	last := func(id, typ string) string {
		items, ok := e.sim.LogItems(id)
		if !ok {
			t.Fatalf("session %s missing", id)
		}
		msg := ""
		for _, it := range items {
			if it.Type == typ {
				msg = it.Message
			}
		}
		return msg
	}
	for _, tc := range []struct{ id, typ, want string }{
		{DemoFailedID, LogError, DemoFailedReason},
		{DemoWarningID, LogWarning, DemoWarningReason},
		{DemoRunningFailedID, LogError, DemoRunningFailedReason},
		{DemoRunningWarningID, LogWarning, DemoRunningWarningReason},
	} {
		if got := last(tc.id, tc.typ); got != tc.want {
			t.Errorf("%s: last %s %q, want %q", tc.id, tc.typ, got, tc.want)
		}
	}
	if last(DemoFailedID, LogWarning) == "" {
		t.Error("the Failed demo session should also log a warning, so that Error-before-Warning is shown")
	}
}

func TestSetLogItemsValidates(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	now := e.clock.Now()
	for name, tc := range map[string]struct {
		id   string
		item LogItem
	}{
		"unknown session": {"00000000-0000-4000-8000-000000000000", LogItem{Type: LogError, CreationTime: now}},
		"bad type":        {DemoFailedID, LogItem{Type: "Failed", CreationTime: now}},
		"no time":         {DemoFailedID, LogItem{Type: LogError}},
		"bad id":          {DemoFailedID, LogItem{ID: "x", Type: LogError, CreationTime: now}},
	} {
		if err := e.sim.SetLogItems(tc.id, []LogItem{tc.item}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Removing a session drops its log; re-adding it starts empty.
	if !e.sim.RemoveSession(DemoFailedID) {
		t.Fatal("remove")
	}
	sess := Session{ID: DemoFailedID, CreationTime: now, Type: TypeRetrieve, Status: StatusFailed}
	if err := e.sim.AddSession(sess); err != nil {
		t.Fatal(err)
	}
	if items, ok := e.sim.LogItems(DemoFailedID); !ok || len(items) != 0 {
		t.Errorf("re-added session has log %v", items)
	}
}

func TestLogItemsFaultsAndStats(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v8").AccessToken
	e.sim.ResetStats()
	if err := e.sim.SetFault(Fault{Endpoint: EndpointLogItems, SessionID: DemoFailedID, Kind: FaultStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetFault(Fault{Endpoint: EndpointLogItems, Kind: FaultMalformed, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if r := e.get(logPath("v8", DemoFailedID), tok); r.status != http.StatusServiceUnavailable {
		t.Errorf("narrowed status fault: %d %s", r.status, r.body)
	}
	if r := e.get(logPath("v8", DemoWarningID), tok); r.status != http.StatusOK || !strings.Contains(string(r.body), ",,") {
		t.Errorf("malformed fault on another session: %d %s", r.status, r.body)
	}
	if r := e.get(logPath("v8", DemoWarningID), tok); r.status != http.StatusOK || strings.Contains(string(r.body), ",,") {
		t.Errorf("after the one malformed answer: %d %s", r.status, r.body)
	}
	// The session itself is not hit by a fault on its log.
	if r := e.get("/v8/DataRetrievalSessions/"+DemoFailedID, tok); r.status != http.StatusOK {
		t.Errorf("session GET hit by a logitems fault: %d", r.status)
	}
	st := e.sim.Stats()
	if st.ByEndpoint[EndpointLogItems] != 3 || st.ByEndpoint[EndpointSession] != 1 || st.ByEndpoint[EndpointUnknown] != 0 {
		t.Errorf("stats by endpoint %v", st.ByEndpoint)
	}
	if err := e.sim.SetFault(Fault{Endpoint: "logs", Kind: FaultStall}); err == nil {
		t.Error("an unknown endpoint name was accepted")
	}
}

func TestAdminLogItems(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Admin = true })
	e.sim.LoadDemoData()
	tok := e.login("v8").AccessToken
	r := e.do(http.MethodPut, "/admin/sessions/"+DemoFailedID+"/logitems", "", "application/json",
		`[{"type":"Error","message":"token abc leaked","creationTime":"2024-05-06T07:00:00+02:00"},
		  {"id":"aaaaaaaa-0000-4000-8000-000000000001","usn":7,"type":"Warning","message":"late","creationTime":"2024-05-06T07:01:00+02:00","endTime":"2024-05-06T07:02:00+02:00"}]`)
	if r.status != http.StatusNoContent {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	var p logPage
	mustJSON(t, e.get(logPath("v8", DemoFailedID), tok).body, &p)
	if len(p.Results) != 2 || p.Results[0].Message != "token abc leaked" || p.Results[1].USN != 7 ||
		p.Results[1].ID != "aaaaaaaa-0000-4000-8000-000000000001" || !isUUID(p.Results[0].ID) {
		t.Errorf("served %+v", p.Results)
	}
	for name, tc := range map[string]struct {
		path, body string
		want       int
	}{
		"unknown session": {"/admin/sessions/00000000-0000-4000-8000-000000000000/logitems", `[]`, http.StatusNotFound},
		"bad type":        {"/admin/sessions/" + DemoFailedID + "/logitems", `[{"type":"Bad","creationTime":"2024-05-06T07:00:00Z"}]`, http.StatusBadRequest},
		"bad time":        {"/admin/sessions/" + DemoFailedID + "/logitems", `[{"type":"Error","creationTime":"soon"}]`, http.StatusBadRequest},
		"unknown field":   {"/admin/sessions/" + DemoFailedID + "/logitems", `[{"type":"Error","title":"x"}]`, http.StatusBadRequest},
	} {
		if r := e.do(http.MethodPut, tc.path, "", "application/json", tc.body); r.status != tc.want {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	r = e.do(http.MethodPost, "/admin/faults", "", "application/json", `{"endpoint":"logitems","kind":"status","status":500}`)
	if r.status != http.StatusNoContent {
		t.Fatalf("fault: %d %s", r.status, r.body)
	}
	if r := e.get(logPath("v8", DemoFailedID), tok); r.status != http.StatusInternalServerError {
		t.Errorf("admin fault on logitems: %d", r.status)
	}
}
