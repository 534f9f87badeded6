package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// conformance validates every answer against the response schema Veeam documents for it.
type conformance struct {
	*env
	ver      string
	style    string
	doc      *openAPI
	v        *validator
	notEnded int
	checked  map[string]int
}

// normalizeUnset removes an unset date-time (a not-ended session's endTime, the
// lastBackupDate of a user never backed up) after checking it has the configured form. The
// documents declare both non-nullable date-times, yet VB365 servers send null, nothing or
// .NET's "0001-01-01T00:00:00" for them; the simulator reproduces all three, so the schema
// check is relaxed for exactly that case.
func (c *conformance) normalizeUnset(obj map[string]any, key string) {
	c.t.Helper()
	et, present := obj[key]
	switch {
	case !present:
		if c.style != EndTimeAbsent {
			c.t.Errorf("%s/%s: %v has no %s", c.ver, c.style, obj["id"], key)
		}
		c.notEnded++
	case et == nil:
		if c.style != EndTimeNull {
			c.t.Errorf("%s/%s: %v has %s null", c.ver, c.style, obj["id"], key)
		}
		c.notEnded++
		delete(obj, key)
	case et == zeroTime:
		if c.style != EndTimeZero {
			c.t.Errorf("%s/%s: %v has %s %s", c.ver, c.style, obj["id"], key, zeroTime)
		}
		c.notEnded++
		delete(obj, key)
	}
}

func (c *conformance) check(op string, r response) {
	c.t.Helper()
	c.checked[fmt.Sprintf("%s %d", op, r.status)]++
	schema := c.doc.responseSchema(c.t, op, r.status)
	if schema == nil {
		if len(r.body) != 0 {
			c.t.Errorf("%s %s %d: documented without body, got %s", c.ver, op, r.status, r.body)
		}
		return
	}
	if ct := r.header.Get("Content-Type"); ct != jsonContentType {
		c.t.Errorf("%s %s %d: Content-Type %q", c.ver, op, r.status, ct)
	}
	body := r.body
	key := map[string]string{"session": "endTime", "list": "endTime", "jobSession": "endTime", "jobSessions": "endTime",
		"jobSessionsOfJob": "endTime", "licensedUsers": "lastBackupDate"}[op]
	if r.status == http.StatusOK && key != "" {
		var val any
		mustJSON(c.t, body, &val)
		if op == "session" || op == "jobSession" {
			c.normalizeUnset(val.(map[string]any), key)
		} else {
			for _, s := range val.(map[string]any)["results"].([]any) {
				c.normalizeUnset(s.(map[string]any), key)
			}
		}
		body, _ = json.Marshal(val)
	}
	if errs := c.v.validateJSON(schema, body); len(errs) != 0 {
		c.t.Errorf("%s %s %d does not match the documented schema:\n  %s\nbody: %s", c.ver, op, r.status, strings.Join(errs, "\n  "), r.body)
	}
}

func TestSchemaConformance(t *testing.T) {
	for _, ver := range versions {
		for _, style := range []string{EndTimeNull, EndTimeAbsent, EndTimeZero} {
			t.Run(ver+"/"+style, func(t *testing.T) {
				e := newEnv(t, func(o *Options) { o.EndTimeStyle = style })
				e.sim.LoadDemoData()
				doc := loadOpenAPI(t, ver)
				c := &conformance{env: e, ver: ver, style: style, doc: doc, v: &validator{doc: doc}, checked: map[string]int{}}
				p := "/" + ver

				// token: form, JSON, bad credentials, bad refresh token.
				good := url.Values{"grant_type": {"password"}, "username": {testUser}, "password": {testPassword}}
				r := e.tokenRequest(ver, good)
				c.check("token", r)
				var tok tokenAnswer
				mustJSON(t, r.body, &tok)
				c.check("token", e.do(http.MethodPost, p+"/token", "", "application/json",
					`{"grant_type":"password","username":"EXAMPLE\\monitoring","password":"s3cret-pw"}`))
				c.check("token", e.tokenRequest(ver, url.Values{"grant_type": {"password"}, "username": {testUser}, "password": {"wrong"}}))
				c.check("token", e.tokenRequest(ver, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}))

				for _, id := range DemoSessionIDs() {
					c.check("session", e.get(p+"/DataRetrievalSessions/"+id, tok.AccessToken))
				}
				c.check("session", e.get(p+"/DataRetrievalSessions/not-a-uuid", tok.AccessToken))
				c.check("session", e.get(p+"/DataRetrievalSessions/00000000-0000-4000-8000-000000000000", tok.AccessToken))
				c.check("session", e.get(p+"/DataRetrievalSessions/"+ReferenceSessionID, ""))

				next := p + "/DataRetrievalSessions?limit=3"
				for pages := 0; next != ""; pages++ {
					if pages > 10 {
						t.Fatal("paging does not end")
					}
					r := e.get(next, tok.AccessToken)
					c.check("list", r)
					next = ""
					if l, ok := decodeMap(t, r.body)["_links"].(map[string]any)["next"].(map[string]any); ok {
						next = l["href"].(string)
					}
				}
				c.check("list", e.get(p+"/DataRetrievalSessions?dataRetrievalId="+ReferenceRetrievalID, tok.AccessToken))
				c.check("list", e.get(p+"/DataRetrievalSessions?limit=10001", tok.AccessToken))

				c.check("retrievals", e.get(p+"/DataRetrievals", tok.AccessToken))
				c.check("retrievals", e.get(p+"/DataRetrievals?dataState=Retrieving", tok.AccessToken))
				c.check("retrievals", e.get(p+"/DataRetrievals?dataState=Bogus", tok.AccessToken))
				for _, id := range []string{ReferenceRetrievalID, DemoOneDriveRetrievalID, DemoTeamsRetrievalID} {
					c.check("retrieval", e.get(p+"/DataRetrievals/"+id, tok.AccessToken))
				}
				c.check("retrieval", e.get(p+"/DataRetrievals/00000000-0000-4000-8000-000000000000", tok.AccessToken))

				if ver != "v6" {
					c.check("logout", e.do(http.MethodPost, p+"/token/logout", tok.AccessToken, "", ""))
					c.check("logout", e.do(http.MethodPost, p+"/token/logout", tok.AccessToken, "", ""))
				}

				if c.notEnded == 0 {
					t.Error("no not-ended session was served, so the endTime style went untested")
				}
				for _, want := range []string{"token 200", "token 400", "session 200", "session 400", "session 401", "session 404",
					"list 200", "list 400", "retrievals 200", "retrievals 400", "retrieval 200", "retrieval 404"} {
					if c.checked[want] == 0 {
						t.Errorf("no answer %q was checked", want)
					}
				}
			})
		}
	}
}

// Routes a version does not have answer with the smallest error body, which every version's
// RESTExceptionInfo accepts.
func TestUnknownRoutesAnswerErrorBody(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.login("v8").AccessToken
	for _, tc := range []struct{ path, ver string }{
		{"/v9/DataRetrievalSessions", "v6"},
		{"/v5/token", "v6"},
		{"/", "v6"},
		{"/v6/token/logout", "v6"},
		{"/v8/Tenants", "v8"},
		{"/v7/Jobs/00000000-0000-4000-8000-000000000000/JobSessions", "v7"},
	} {
		r := e.do(http.MethodPost, tc.path, tok, "", "")
		if r.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", tc.path, r.status)
		}
		doc := loadOpenAPI(t, tc.ver)
		v := &validator{doc: doc}
		if errs := v.validateJSON(doc.Components.Schemas["RESTExceptionInfo"], r.body); len(errs) != 0 {
			t.Errorf("%s: %v", tc.path, errs)
		}
		if m := decodeMap(t, r.body); m["message"] == "" || m["message"] == nil {
			t.Errorf("%s: no message in %s", tc.path, r.body)
		}
	}
}
