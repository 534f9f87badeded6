package simulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type testPage struct {
	Offset     int               `json:"offset"`
	Limit      int               `json:"limit"`
	TotalCount *int              `json:"totalCount"`
	Results    []json.RawMessage `json:"results"`
	Links      map[string]struct {
		Href string `json:"href"`
	} `json:"_links"`
}

func decodeTestPage(t *testing.T, r response) testPage {
	t.Helper()
	var p testPage
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("%v: %.200s", err, r.body)
	}
	return p
}

func TestFaultPageCap(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointAny, Kind: FaultPageCap, Entries: 3})
	total := len(DemoSessionIDs())
	p := decodeTestPage(t, e.get("/v7/DataRetrievalSessions?limit=1000", tok))
	if len(p.Results) != 3 || p.Limit != 1000 || p.TotalCount == nil || *p.TotalCount != total {
		t.Errorf("capped page: %d results, limit %d, total %v; want 3, the asked 1000, %d", len(p.Results), p.Limit, p.TotalCount, total)
	}
	p = decodeTestPage(t, e.get("/v8/DataRetrievalSessions?limit=1000&offset=3", tok))
	if len(p.Results) != 3 || p.Offset != 3 || !strings.Contains(p.Links["next"].Href, "offset=6") {
		t.Errorf("v8 capped page: %d results at %d, next %q", len(p.Results), p.Offset, p.Links["next"].Href)
	}
	// Asking for no more than the cap is answered as usual.
	if p = decodeTestPage(t, e.get("/v8/DataRetrievalSessions?limit=2", tok)); len(p.Results) != 2 || p.Limit != 2 {
		t.Errorf("page under the cap: %d results, limit %d", len(p.Results), p.Limit)
	}
	// v6/v7 retrievals are one array, not paged: the cap leaves them alone.
	var all []json.RawMessage
	if err := json.Unmarshal(e.get("/v7/DataRetrievals", tok).body, &all); err != nil || len(all) != 3 {
		t.Errorf("v7 retrievals under a page cap: %d, %v", len(all), err)
	}
}

func TestFaultEndless(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointList, Kind: FaultEndless, Entries: 5, Bytes: 100})
	seen := map[string]bool{}
	for _, q := range []string{"offset=0&limit=10", "offset=5&limit=10", "offset=1000000&limit=3"} {
		p := decodeTestPage(t, e.get("/v6/DataRetrievalSessions?"+q, tok))
		if p.TotalCount == nil || *p.TotalCount <= p.Offset+len(p.Results) {
			t.Errorf("%s: total %v does not promise more", q, p.TotalCount)
		}
		for _, raw := range p.Results {
			var s struct{ ID, Name string }
			_ = json.Unmarshal(raw, &s)
			if seen[s.ID] || len(s.Name) != 100 {
				t.Errorf("%s: session %s (name %d bytes) repeated or mis-sized", q, s.ID, len(s.Name))
			}
			seen[s.ID] = true
		}
	}
	if len(seen) != 13 {
		t.Errorf("%d distinct sessions over three pages, want 5+5+3", len(seen))
	}
	p := decodeTestPage(t, e.get("/v8/DataRetrievalSessions?offset=0&limit=10", tok))
	if p.TotalCount != nil || p.Links["next"].Href == "" {
		t.Errorf("v8 endless page: total %v, next %q", p.TotalCount, p.Links["next"].Href)
	}
}

func TestFaultHugeList(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointRetrievals, Kind: FaultHugeList, Entries: 2500})
	var all []struct{ ID string }
	if err := json.Unmarshal(e.get("/v7/DataRetrievals", tok).body, &all); err != nil || len(all) != 2500 {
		t.Fatalf("v7: %d retrievals, %v", len(all), err)
	}
	p := decodeTestPage(t, e.get("/v8/DataRetrievals?offset=2000&limit=1000", tok))
	if len(p.Results) != 500 || p.Links["next"].Href != "" {
		t.Errorf("v8 last page: %d results, next %q", len(p.Results), p.Links["next"].Href)
	}
}

func TestFaultLongEnum(t *testing.T) {
	e, tok := faultEnv(t, Fault{Endpoint: EndpointAny, Kind: FaultLongEnum, Bytes: 1000})
	var a, b struct{ ID, Status, Type string }
	_ = json.Unmarshal(e.get(refPath, tok).body, &a)
	_ = json.Unmarshal(e.get(refPath, tok).body, &b)
	if a.ID != ReferenceSessionID || len(a.Status) != 1000 || len(a.Type) != 1000 {
		t.Fatalf("session %s: status %d bytes, type %d bytes", a.ID, len(a.Status), len(a.Type))
	}
	if a.Status[:40] == b.Status[:40] || a.Status[:40] == a.Type[:40] {
		t.Error("values repeat within their first 40 bytes")
	}
	p := decodeTestPage(t, e.get("/v8/DataRetrievals", tok))
	var r struct{ DataState, LastStatus string }
	_ = json.Unmarshal(p.Results[0], &r)
	if len(r.DataState) != 1000 || len(r.LastStatus) != 1000 {
		t.Errorf("retrieval enums %d and %d bytes", len(r.DataState), len(r.LastStatus))
	}
}
