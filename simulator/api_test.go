package simulator

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReferenceSessionMatchesReferencePage(t *testing.T) {
	want, err := os.ReadFile("testdata/reference-session-v6.json")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v6").AccessToken
	r := e.get("/v6/DataRetrievalSessions/"+ReferenceSessionID, tok)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var got, exp any
	mustJSON(t, r.body, &got)
	mustJSON(t, want, &exp)
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("reference session differs from Veeam's page\n got: %s\nwant: %s", r.body, want)
	}
	// Field values compared as JSON can hide a formatting change in times; check the strings.
	for _, s := range []string{`"creationTime":"2022-01-28T20:52:36.9177053+01:00"`, `"endTime":"2022-01-28T20:56:17.7513457+01:00"`} {
		if !strings.Contains(string(r.body), s) {
			t.Errorf("body lacks %s: %s", s, r.body)
		}
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cl := r.header.Get("Content-Length"); cl != fmt.Sprint(len(r.body)) {
		t.Errorf("Content-Length %q for %d bytes", cl, len(r.body))
	}
	ref := ReferenceSession()
	// The product documentation quotes the duration rounded to milliseconds.
	if d := ref.EndTime.Sub(ref.CreationTime); math.Abs(d.Seconds()-220.834) > 0.0005 {
		t.Errorf("reference duration %v, want 220.834s", d)
	}
}

func TestSessionFieldsPerVersion(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	for _, ver := range versions {
		tok := e.login(ver).AccessToken
		m := decodeMap(t, e.get("/"+ver+"/DataRetrievalSessions/"+DemoFailedID, tok).body)
		_, hasRepo := m["repositoryId"]
		_, hasProxy := m["proxyId"]
		_, hasPool := m["proxyPoolId"]
		if v8 := ver == "v8"; hasRepo != v8 || hasProxy != v8 || hasPool != v8 {
			t.Errorf("%s: repositoryId/proxyId/proxyPoolId present = %v/%v/%v", ver, hasRepo, hasProxy, hasPool)
		}
		if m["status"] != StatusFailed || m["type"] != TypeRetrieve {
			t.Errorf("%s: %v", ver, m)
		}
	}
}

func TestSessionLookupIsCaseInsensitive(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v7").AccessToken
	r := e.get("/V7/dataretrievalsessions/"+strings.ToUpper(ReferenceSessionID), tok)
	if r.status != http.StatusOK || decodeMap(t, r.body)["id"] != ReferenceSessionID {
		t.Errorf("status %d body %s", r.status, r.body)
	}
}

func TestErrorBodiesPerVersion(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		ver  string
		keys []string
		code any
	}{
		{"v6", []string{"message"}, nil},
		{"v7", []string{"errorCode", "message"}, nil}, // v7 documents only ProxyOffline
		{"v8", []string{"errorCode", "message", "stackTrace"}, codeNotFound},
	} {
		tok := e.login(tc.ver).AccessToken
		r := e.get("/"+tc.ver+"/DataRetrievalSessions/00000000-0000-4000-8000-000000000000", tok)
		if r.status != http.StatusNotFound {
			t.Fatalf("%s: status %d", tc.ver, r.status)
		}
		m := decodeMap(t, r.body)
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		if fmt.Sprint(sortedCopy(keys)) != fmt.Sprint(tc.keys) {
			t.Errorf("%s: keys %v, want %v", tc.ver, keys, tc.keys)
		}
		if m["errorCode"] != tc.code {
			t.Errorf("%s: errorCode %v, want %v", tc.ver, m["errorCode"], tc.code)
		}
		if !strings.Contains(m["message"].(string), "not found") {
			t.Errorf("%s: message %q", tc.ver, m["message"])
		}
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

func TestTokenGrant(t *testing.T) {
	for _, ver := range versions {
		t.Run(ver, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.TokenLifetime = 15 * time.Minute })
			a := e.login(ver)
			if a.TokenType != "bearer" || a.ExpiresIn != 900 || a.UserName != testUser || a.AccessToken == "" || a.RefreshToken == "" {
				t.Errorf("token answer %+v", a)
			}
			issued, err1 := time.Parse(time.RFC3339Nano, a.Issued)
			expires, err2 := time.Parse(time.RFC3339Nano, a.Expires)
			if err1 != nil || err2 != nil || !issued.Equal(e.clock.Now()) || expires.Sub(issued) != 15*time.Minute {
				t.Errorf(".issued %s .expires %s (%v %v)", a.Issued, a.Expires, err1, err2)
			}
			if b := e.login(ver); b.AccessToken == a.AccessToken {
				t.Error("two logins got the same access token")
			}
			// JSON bodies are accepted as well as forms, with a boolean antiforgery flag on v7+.
			body := `{"grant_type":"password","username":"EXAMPLE\\monitoring","password":"s3cret-pw"`
			if ver != "v6" {
				body += `,"disable_antiforgery_token":true`
			}
			if r := e.do(http.MethodPost, "/"+ver+"/token", "", "application/json; charset=utf-8", body+"}"); r.status != http.StatusOK {
				t.Errorf("JSON login: %d %s", r.status, r.body)
			}
			for name, form := range map[string]url.Values{
				"wrong password":    {"grant_type": {"password"}, "username": {testUser}, "password": {"nope"}},
				"wrong user":        {"grant_type": {"password"}, "username": {"other"}, "password": {testPassword}},
				"no password":       {"grant_type": {"password"}, "username": {testUser}},
				"no grant":          {"username": {testUser}, "password": {testPassword}},
				"unknown grant":     {"grant_type": {"client_credentials"}},
				"integration":       {"grant_type": {"integration"}, "integration_token": {"x"}},
				"bad refresh":       {"grant_type": {"refresh_token"}, "refresh_token": {"nope"}},
				"access as refresh": {"grant_type": {"refresh_token"}, "refresh_token": {a.AccessToken}},
			} {
				r := e.tokenRequest(ver, form)
				if r.status != http.StatusBadRequest {
					t.Errorf("%s: status %d, want 400", name, r.status)
				}
				if strings.Contains(string(r.body), testPassword) {
					t.Errorf("%s: answer repeats the password", name)
				}
				if name == "wrong password" && !strings.Contains(decodeMap(t, r.body)["message"].(string), "Invalid username or password") {
					t.Errorf("wrong password message: %s", r.body)
				}
			}
			if got := e.sim.Stats().TokensIssued; got != 3 {
				t.Errorf("TokensIssued %d, want 3", got)
			}
		})
	}
}

func TestAntiforgeryFlagMustBeBoolean(t *testing.T) {
	e := newEnv(t, nil)
	form := url.Values{"grant_type": {"password"}, "username": {testUser}, "password": {testPassword}, "disable_antiforgery_token": {"maybe"}}
	if r := e.tokenRequest("v8", form); r.status != http.StatusBadRequest {
		t.Errorf("v8 took disable_antiforgery_token=maybe: %d", r.status)
	}
	// v6 predates the flag and ignores it, as ASP.NET ignores unknown form fields.
	if r := e.tokenRequest("v6", form); r.status != http.StatusOK {
		t.Errorf("v6 rejected an unknown form field: %d %s", r.status, r.body)
	}
}

func TestRefreshGrant(t *testing.T) {
	for _, ver := range versions {
		e := newEnv(t, nil)
		e.sim.LoadDemoData()
		a := e.login(ver)
		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken}}
		r := e.tokenRequest(ver, refresh)
		if r.status != http.StatusOK {
			t.Fatalf("%s refresh: %d %s", ver, r.status, r.body)
		}
		var b tokenAnswer
		mustJSON(t, r.body, &b)
		if b.AccessToken == a.AccessToken || b.RefreshToken == a.RefreshToken {
			t.Errorf("%s: refresh returned the old tokens", ver)
		}
		if s := e.get("/"+ver+"/DataRetrievalSessions/"+ReferenceSessionID, b.AccessToken).status; s != http.StatusOK {
			t.Errorf("%s: refreshed token answered %d", ver, s)
		}
		// Refresh tokens are single use.
		if s := e.tokenRequest(ver, refresh).status; s != http.StatusBadRequest {
			t.Errorf("%s: reused refresh token answered %d", ver, s)
		}
	}
}

func TestBearerRequired(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TokenLifetime = time.Hour })
	e.sim.LoadDemoData()
	for _, ver := range versions {
		a := e.login(ver)
		for _, path := range []string{"/DataRetrievalSessions/" + ReferenceSessionID, "/DataRetrievalSessions", "/DataRetrievals", "/DataRetrievals/" + ReferenceRetrievalID,
			"/Jobs", "/Jobs/" + DemoJobFailedID, "/JobSessions", "/JobSessions/" + DemoJobFailedSession, "/JobSessions/" + DemoJobFailedSession + "/LogItems",
			"/License", "/BackupRepositories", "/BackupRepositories/" + DemoRepositoryID, "/Proxies", "/Proxies/" + DemoProxyID} {
			for name, tok := range map[string]string{"none": "", "unknown": "made-up-token", "refresh token": a.RefreshToken} {
				r := e.get("/"+ver+path, tok)
				if r.status != http.StatusUnauthorized {
					t.Errorf("%s%s with %s bearer: %d", ver, path, name, r.status)
				}
				if r.header.Get("WWW-Authenticate") != "Bearer" {
					t.Errorf("%s%s: WWW-Authenticate %q", ver, path, r.header.Get("WWW-Authenticate"))
				}
			}
			if r := e.get("/"+ver+path, a.AccessToken); r.status != http.StatusOK {
				t.Errorf("%s%s with a valid token: %d %s", ver, path, r.status, r.body)
			}
		}
	}
	// Authentication comes before parameter validation, as in ASP.NET.
	if s := e.get("/v8/DataRetrievalSessions/not-a-uuid", "").status; s != http.StatusUnauthorized {
		t.Errorf("unauthenticated bad id: %d, want 401", s)
	}
}

func TestTokenExpiresWithClock(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TokenLifetime = 10 * time.Minute })
	e.sim.LoadDemoData()
	a := e.login("v7")
	path := "/v7/DataRetrievalSessions/" + ReferenceSessionID
	e.clock.Advance(10*time.Minute - time.Nanosecond)
	if s := e.get(path, a.AccessToken).status; s != http.StatusOK {
		t.Fatalf("token rejected before expiry: %d", s)
	}
	e.clock.Advance(time.Nanosecond)
	if s := e.get(path, a.AccessToken).status; s != http.StatusUnauthorized {
		t.Fatalf("expired token answered %d", s)
	}
	// The refresh token outlives the access token.
	r := e.tokenRequest("v7", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken}})
	if r.status != http.StatusOK {
		t.Fatalf("refresh after expiry: %d %s", r.status, r.body)
	}
}

func TestRevokeTokens(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	a := e.login("v8")
	e.sim.RevokeTokens()
	if s := e.get("/v8/DataRetrievalSessions/"+ReferenceSessionID, a.AccessToken).status; s != http.StatusUnauthorized {
		t.Errorf("revoked token answered %d", s)
	}
	if s := e.tokenRequest("v8", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken}}).status; s != http.StatusBadRequest {
		t.Errorf("revoked refresh token answered %d", s)
	}
}

func TestLogout(t *testing.T) {
	for _, tc := range []struct {
		ver    string
		status int
	}{{"v7", http.StatusOK}, {"v8", http.StatusNoContent}} {
		e := newEnv(t, nil)
		a := e.login(tc.ver)
		if s := e.do(http.MethodPost, "/"+tc.ver+"/token/logout", "", "", "").status; s != http.StatusUnauthorized {
			t.Errorf("%s logout without bearer: %d", tc.ver, s)
		}
		r := e.do(http.MethodPost, "/"+tc.ver+"/token/logout", a.AccessToken, "", "")
		if r.status != tc.status || len(r.body) != 0 {
			t.Errorf("%s logout: %d %q, want %d and no body", tc.ver, r.status, r.body, tc.status)
		}
		if s := e.get("/"+tc.ver+"/DataRetrievals", a.AccessToken).status; s != http.StatusUnauthorized {
			t.Errorf("%s: token still valid after logout: %d", tc.ver, s)
		}
		if s := e.tokenRequest(tc.ver, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken}}).status; s != http.StatusBadRequest {
			t.Errorf("%s: refresh token still valid after logout: %d", tc.ver, s)
		}
	}
	e := newEnv(t, nil)
	if s := e.do(http.MethodPost, "/v6/token/logout", e.login("v6").AccessToken, "", "").status; s != http.StatusNotFound {
		t.Errorf("v6 has no logout, got %d", s)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.login("v6").AccessToken
	if r := e.do(http.MethodDelete, "/v6/DataRetrievalSessions/"+ReferenceSessionID, tok, "", ""); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET" {
		t.Errorf("DELETE session: %d Allow=%q", r.status, r.header.Get("Allow"))
	}
	if r := e.get("/v6/token", ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET token: %d", r.status)
	}
	for _, p := range []string{"/v8/Jobs", "/v8/JobSessions/" + DemoJobFailedSession, "/v6/Jobs/" + DemoJobFailedID + "/JobSessions", "/v7/License", "/v8/Proxies"} {
		if r := e.do(http.MethodPost, p, tok, "", ""); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET" {
			t.Errorf("POST %s: %d Allow=%q", p, r.status, r.header.Get("Allow"))
		}
	}
}

type page struct {
	Offset     int               `json:"offset"`
	Limit      int               `json:"limit"`
	SetID      string            `json:"setId"`
	TotalCount *int              `json:"totalCount"`
	Results    []json.RawMessage `json:"results"`
	Links      map[string]struct {
		Href string `json:"href"`
	} `json:"_links"`
}

func addSessions(t *testing.T, sim *Simulator, n int, retrieval string, start time.Time) []string {
	t.Helper()
	var ids []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		err := sim.AddSession(Session{ID: id, Name: fmt.Sprint("s", i), RetrievalID: retrieval,
			CreationTime: start.Add(time.Duration(i) * time.Minute), EndTime: start.Add(time.Duration(i)*time.Minute + time.Second),
			Type: TypeRetrieve, Status: StatusSuccess})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestPaging(t *testing.T) {
	for _, ver := range versions {
		e := newEnv(t, nil)
		start := e.clock.Now().Add(-time.Hour)
		ids := addSessions(t, e.sim, 7, ReferenceRetrievalID, start)
		tok := e.login(ver).AccessToken

		var seen []string
		next := "/" + ver + "/DataRetrievalSessions?limit=3"
		for pages := 0; next != ""; pages++ {
			r := e.get(next, tok)
			if r.status != http.StatusOK {
				t.Fatalf("%s %s: %d %s", ver, next, r.status, r.body)
			}
			var p page
			mustJSON(t, r.body, &p)
			if p.Limit != 3 || p.Offset != pages*3 {
				t.Errorf("%s page %d: offset %d limit %d", ver, pages, p.Offset, p.Limit)
			}
			if ver == "v8" && p.TotalCount != nil {
				t.Errorf("v8 sent totalCount")
			}
			if ver != "v8" && (p.TotalCount == nil || *p.TotalCount != 7) {
				t.Errorf("%s totalCount %v, want 7", ver, p.TotalCount)
			}
			if !isUUID(p.SetID) {
				t.Errorf("%s setId %q", ver, p.SetID)
			}
			if p.Links["self"].Href != fmt.Sprintf("/%s/DataRetrievalSessions?limit=3&offset=%d", ver, pages*3) {
				t.Errorf("%s self link %q", ver, p.Links["self"].Href)
			}
			for _, raw := range p.Results {
				var s struct{ ID string }
				mustJSON(t, raw, &s)
				seen = append(seen, s.ID)
			}
			next = p.Links["next"].Href
			if pages > 5 {
				t.Fatal("paging does not end")
			}
		}
		// Newest creation time first.
		var want []string
		for i := len(ids) - 1; i >= 0; i-- {
			want = append(want, ids[i])
		}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Errorf("%s order %v, want %v", ver, seen, want)
		}

		var p page
		mustJSON(t, e.get("/"+ver+"/DataRetrievalSessions", tok).body, &p)
		if p.Limit != 30 || p.Offset != 0 || len(p.Results) != 7 {
			t.Errorf("%s defaults: offset %d limit %d results %d", ver, p.Offset, p.Limit, len(p.Results))
		}
		if _, ok := p.Links["next"]; ok {
			t.Errorf("%s: next link on the last page", ver)
		}
		mustJSON(t, e.get("/"+ver+"/DataRetrievalSessions?offset=100", tok).body, &p)
		if len(p.Results) != 0 || p.Results == nil {
			t.Errorf("%s offset past the end: %v", ver, p.Results)
		}
		if r := e.get("/"+ver+"/DataRetrievalSessions?limit=10000", tok); r.status != http.StatusOK {
			t.Errorf("%s limit=10000: %d", ver, r.status)
		}
		for _, q := range []string{"limit=10001", "limit=0", "limit=-1", "limit=x", "offset=-1", "offset=x", "dataRetrievalId=nope"} {
			if r := e.get("/"+ver+"/DataRetrievalSessions?"+q, tok); r.status != http.StatusBadRequest {
				t.Errorf("%s %s: %d, want 400", ver, q, r.status)
			}
		}
	}
}

func TestListFilterByRetrieval(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v7").AccessToken
	var p page
	mustJSON(t, e.get("/v7/DataRetrievalSessions?limit=2&dataRetrievalId="+strings.ToUpper(DemoTeamsRetrievalID), tok).body, &p)
	if *p.TotalCount != 3 || len(p.Results) != 2 {
		t.Fatalf("filtered total %d, results %d; want 3 and 2", *p.TotalCount, len(p.Results))
	}
	for _, raw := range p.Results {
		if m := decodeMap(t, raw); m["retrievalId"] != DemoTeamsRetrievalID {
			t.Errorf("filter let through %v", m["retrievalId"])
		}
	}
	next, err := url.Parse(p.Links["next"].Href)
	if err != nil || !strings.EqualFold(next.Query().Get("dataRetrievalId"), DemoTeamsRetrievalID) || next.Query().Get("offset") != "2" {
		t.Errorf("next link %q loses the filter", p.Links["next"].Href)
	}
}

func TestRunningSessionsAdvanceAndFinish(t *testing.T) {
	e := newEnv(t, nil)
	now := e.clock.Now()
	err := e.sim.AddSession(Session{ID: "12345678-1234-4234-8234-123456789abc", Name: "run", RetrievalID: ReferenceRetrievalID,
		CreationTime: now, Type: TypeRetrieve, Status: StatusRunning, Progress: 1, ProcessedObjects: 10,
		FinishAt: now.Add(100 * time.Second), FinalStatus: StatusWarning, ProgressPerSecond: 0.5, ObjectsPerSecond: 2})
	if err != nil {
		t.Fatal(err)
	}
	tok := e.login("v6").AccessToken
	get := func() map[string]any {
		return decodeMap(t, e.get("/v6/DataRetrievalSessions/12345678-1234-4234-8234-123456789abc", tok).body)
	}
	if m := get(); m["progress"] != 1.0 || m["processedObjects"] != 10.0 || m["status"] != StatusRunning || m["endTime"] != zeroTime {
		t.Errorf("at start: %v", m)
	}
	e.clock.Advance(40 * time.Second)
	if m := get(); m["progress"] != 21.0 || m["processedObjects"] != 90.0 || m["status"] != StatusRunning {
		t.Errorf("after 40s: %v", m)
	}
	// A token lasts an hour, so this read is still authorised.
	e.clock.Advance(10 * time.Minute)
	m := get()
	if m["progress"] != 51.0 || m["processedObjects"] != 210.0 || m["status"] != StatusWarning {
		t.Errorf("after finishing: %v", m)
	}
	if m["endTime"] != formatTime(now.Add(100*time.Second)) {
		t.Errorf("endTime %v, want %s", m["endTime"], formatTime(now.Add(100*time.Second)))
	}
}

func TestDemoDataFinishesWithinMinutes(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	statuses := map[string]bool{}
	for _, id := range DemoSessionIDs() {
		s, _ := e.sim.Session(id)
		statuses[s.Status] = true
	}
	for _, st := range sessionStatuses {
		if !statuses[st] {
			t.Errorf("demo data has no %s session", st)
		}
	}
	e.clock.Advance(5 * time.Minute)
	want := map[string]string{DemoRunningSuccessID: StatusSuccess, DemoRunningFailedID: StatusFailed, DemoRunningWarningID: StatusWarning}
	for id, st := range want {
		s, ok := e.sim.Session(id)
		if !ok || s.Status != st || s.EndTime.IsZero() || s.ProcessedObjects == 0 {
			t.Errorf("%s after 5 min: %+v", id, s)
		}
	}
	for _, id := range DemoSessionIDs() {
		s, _ := e.sim.Session(id)
		if strings.ContainsAny(s.Name, `<>&"`) {
			t.Errorf("demo session %s is named %q: markup is test data, not demo data", id, s.Name)
		}
		if s.Type == TypeRetrieve && strings.Contains(strings.ToLower(s.Name), "availability") {
			t.Errorf("demo session %s of type %s is named %q", id, s.Type, s.Name)
		}
	}
}

// Newtonsoft.Json does not escape markup; neither does the simulator.
func TestMarkupInNamesSentAsIs(t *testing.T) {
	e := newEnv(t, nil)
	const id, name = "abcdef00-0000-4000-8000-000000000088", `<b>Teams & "Co"</b>`
	if err := e.sim.AddSession(Session{ID: id, Name: name, RetrievalID: DemoTeamsRetrievalID, Type: TypeRetrieve,
		Status: StatusSuccess, CreationTime: time.Now().Add(-time.Hour), EndTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tok := e.login("v6").AccessToken
	if r := e.get("/v6/DataRetrievalSessions/"+id, tok); !strings.Contains(string(r.body), `"name":"<b>Teams & \"Co\"</b>"`) {
		t.Errorf("HTML name encoded as %s", r.body)
	}
}

func TestEndTimeStyles(t *testing.T) {
	for style, want := range map[string]string{EndTimeNull: `"endTime":null,`, EndTimeZero: `"endTime":"0001-01-01T00:00:00",`, EndTimeAbsent: ""} {
		e := newEnv(t, func(o *Options) { o.EndTimeStyle = style })
		e.sim.LoadDemoData()
		tok := e.login("v8").AccessToken
		body := string(e.get("/v8/DataRetrievalSessions/"+DemoRunningSuccessID, tok).body)
		if want == "" {
			if strings.Contains(body, "endTime") {
				t.Errorf("%s: %s", style, body)
			}
		} else if !strings.Contains(body, want) {
			t.Errorf("%s: %s lacks %s", style, body, want)
		}
	}
}

func TestRetrievals(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	for _, ver := range versions {
		tok := e.login(ver).AccessToken
		r := e.get("/"+ver+"/DataRetrievals", tok)
		var list []map[string]any
		if ver == "v8" {
			var p struct{ Results []map[string]any }
			mustJSON(t, r.body, &p)
			list = p.Results
		} else {
			mustJSON(t, r.body, &list)
		}
		if len(list) != 3 {
			t.Fatalf("%s: %d retrievals", ver, len(list))
		}
		types := map[any]bool{}
		for _, x := range list {
			types[x["type"]] = true
			if _, ok := x["proxyId"]; ok == (ver == "v8") {
				t.Errorf("%s: proxyId present=%v", ver, ok)
			}
		}
		if !types["Exchange"] || !types["OneDrive"] || !types["Teams"] {
			t.Errorf("%s: types %v", ver, types)
		}
		one := decodeMap(t, e.get("/"+ver+"/DataRetrievals/"+ReferenceRetrievalID, tok).body)
		if one["id"] != ReferenceRetrievalID || one["lastStatus"] != StatusSuccess || one["dataState"] != DataStateRetrieved {
			t.Errorf("%s: %v", ver, one)
		}
		if s := e.get("/"+ver+"/DataRetrievals/bad", tok).status; s != http.StatusBadRequest {
			t.Errorf("%s bad id: %d", ver, s)
		}
		var filtered []any
		if ver != "v8" {
			mustJSON(t, e.get("/"+ver+"/DataRetrievals?dataState=Retrieved", tok).body, &filtered)
			if len(filtered) != 1 {
				t.Errorf("%s dataState filter: %d", ver, len(filtered))
			}
		}
	}
	// lastStatus follows the newest session of the retrieval.
	tok := e.login("v8").AccessToken
	e.clock.Advance(5 * time.Minute)
	if m := decodeMap(t, e.get("/v8/DataRetrievals/"+DemoTeamsRetrievalID, tok).body); m["lastStatus"] != StatusFailed {
		t.Errorf("Teams lastStatus %v after its running session failed", m["lastStatus"])
	}
}

func TestUpdateAndRemoveSession(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	e.clock.Advance(time.Minute)
	end := e.clock.Now()
	if err := e.sim.UpdateSession(DemoRunningFailedID, func(s *Session) {
		s.Status, s.EndTime, s.Progress = StatusStopped, end, 3
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	s, _ := e.sim.Session(DemoRunningFailedID)
	if s.Status != StatusStopped || !s.EndTime.Equal(end) || s.Progress != 3 {
		t.Errorf("updated session %+v", s)
	}
	if err := e.sim.UpdateSession(DemoRunningFailedID, func(s *Session) { s.Status = "Done" }); err == nil {
		t.Error("an undocumented status was accepted")
	}
	if err := e.sim.UpdateSession("00000000-0000-4000-8000-000000000000", func(*Session) {}); err == nil {
		t.Error("updating an unknown session did not fail")
	}
	if !e.sim.RemoveSession(DemoRunningFailedID) || e.sim.RemoveSession(DemoRunningFailedID) {
		t.Error("RemoveSession did not report existence")
	}
	tok := e.login("v6").AccessToken
	if st := e.get("/v6/DataRetrievalSessions/"+DemoRunningFailedID, tok).status; st != http.StatusNotFound {
		t.Errorf("removed session answered %d", st)
	}
	if err := e.sim.AddSession(Session{ID: "x"}); err == nil {
		t.Error("a session with a bad id was accepted")
	}
}

func TestStatsCountRequests(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v8").AccessToken
	for i := 0; i < 3; i++ {
		e.get("/v8/DataRetrievalSessions/"+ReferenceSessionID, tok)
	}
	e.get("/v8/DataRetrievalSessions/"+DemoFailedID, "")
	e.get("/v8/DataRetrievalSessions", tok)
	e.get("/v8/DataRetrievals", tok)
	st := e.sim.Stats()
	if st.Total != 7 || st.TokensIssued != 1 {
		t.Errorf("total %d tokens %d", st.Total, st.TokensIssued)
	}
	wantEP := map[string]int64{EndpointToken: 1, EndpointSession: 4, EndpointList: 1, EndpointRetrievals: 1}
	if !reflect.DeepEqual(st.ByEndpoint, wantEP) {
		t.Errorf("by endpoint %v, want %v", st.ByEndpoint, wantEP)
	}
	if st.ByStatus[200] != 6 || st.ByStatus[401] != 1 {
		t.Errorf("by status %v", st.ByStatus)
	}
	if st.BySession[ReferenceSessionID] != 3 || st.BySession[DemoFailedID] != 1 {
		t.Errorf("by session %v", st.BySession)
	}
	// The copy is the caller's.
	st.ByEndpoint[EndpointToken] = 100
	if e.sim.Stats().ByEndpoint[EndpointToken] != 1 {
		t.Error("Stats returned shared maps")
	}
	e.sim.ResetStats()
	if e.sim.Stats().Total != 0 {
		t.Error("ResetStats did not reset")
	}
}

// Many clients, updates and faults at once; run with -race to catch unguarded state.
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.LoadDemoData()
	tok := e.login("v7").AccessToken
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				switch (g + i) % 5 {
				case 0:
					_ = e.sim.UpdateSession(DemoRunningSuccessID, func(s *Session) { s.ProcessedObjects++ })
				case 1:
					_ = e.sim.SetFault(Fault{Endpoint: EndpointRetrievals, Kind: FaultStatus, Count: 1})
				case 2:
					e.clock.Advance(time.Second)
				default:
					e.get("/v7/DataRetrievalSessions/"+DemoSessionIDs()[i%len(DemoSessionIDs())], tok)
					e.get("/v7/DataRetrievalSessions?limit=4", tok)
				}
			}
		}(g)
	}
	wg.Wait()
	st := e.sim.Stats()
	if st.ByEndpoint[EndpointSession] == 0 || st.ByEndpoint[EndpointList] != st.ByEndpoint[EndpointSession] {
		t.Errorf("stats after concurrent use: %v", st.ByEndpoint)
	}
}

func TestSlowSessionAdvancesUnderFrequentReads(t *testing.T) {
	e := newEnv(t, nil)
	err := e.sim.AddSession(Session{ID: "12345678-1234-4234-8234-123456789abc", Name: "slow", CreationTime: e.clock.Now(),
		Type: TypeRetrieve, Status: StatusRunning, ProgressPerSecond: 0.25, ObjectsPerSecond: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		e.clock.Advance(time.Second)
		e.sim.Session("12345678-1234-4234-8234-123456789abc")
	}
	s, _ := e.sim.Session("12345678-1234-4234-8234-123456789abc")
	if s.Progress != 10 || s.ProcessedObjects != 20 || s.Status != StatusRunning || !s.EndTime.IsZero() {
		t.Errorf("after 40 reads a second apart: progress %d objects %d status %s", s.Progress, s.ProcessedObjects, s.Status)
	}
}
