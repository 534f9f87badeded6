package vb365

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

var t0Restores = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func restoreID(i int) string { return fmt.Sprintf("4e570000-0000-4000-8000-%012d", i) }

// restoreSim serves five restores created an hour apart (0 the oldest), each ending ten
// minutes later but the newest, which runs; types and results cycle.
func restoreSim(t *testing.T, version string) (*Client, *simulator.Simulator) {
	t.Helper()
	sim := simulator.New(simulator.Options{Username: "u", Password: "p", Now: func() time.Time { return t0Restores }})
	types := []string{simulator.RestoreExchange, simulator.RestoreOneDrive, simulator.RestoreSharePoint, simulator.RestoreTeams}
	for i := range 5 {
		rs := simulator.RestoreSession{ID: restoreID(i), Name: "restore", Organization: "contoso.onmicrosoft.com", Type: types[i%4],
			CreationTime: t0Restores.Add(time.Duration(i-5) * time.Hour), Result: simulator.StatusFailed, InitiatedBy: `CONTOSO\op`,
			ClientHost: "console", ScopeName: "portal", Reason: "INC-1", Details: "denied"}
		if i < 4 {
			rs.EndTime = rs.CreationTime.Add(10 * time.Minute)
		}
		if err := sim.AddRestoreSession(rs); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, APIVersion: version, Username: "u", Password: func() string { return "p" }})
	if err != nil {
		t.Fatal(err)
	}
	return c, sim
}

func listRestores(t *testing.T, c *Client, q RestoreQuery) ([]RestoreSession, ListStats) {
	t.Helper()
	var got []RestoreSession
	st, err := c.RestoreSessions(context.Background(), q, func(r RestoreSession) { got = append(got, r) })
	if err != nil {
		t.Fatal(err)
	}
	return got, st
}

func restoreIDs(rs []RestoreSession) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, string(r.ID))
	}
	slices.Sort(ids)
	return ids
}

func TestRestoreSessionsPerVersion(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			c, sim := restoreSim(t, version)
			all, st := listRestores(t, c, RestoreQuery{})
			if len(all) != 5 || st != (ListStats{}) {
				t.Fatalf("listed %d restores (%+v), want 5", len(all), st)
			}
			// Every version is read oldest first: v8 is asked to, v6 and v7 answer so.
			if !slices.IsSortedFunc(all, func(a, b RestoreSession) int { return a.CreationTime.Compare(b.CreationTime) }) {
				t.Errorf("not oldest first: %v", restoreIDs(all))
			}
			r := all[0]
			want := RestoreSession{ID: ID(restoreID(0)), Name: "restore", Organization: "contoso.onmicrosoft.com", Type: "Exchange",
				State: "Stopped", Result: "Failed", InitiatedBy: `CONTOSO\op`, ClientHost: "console", Scope: "portal", Details: "denied",
				Reason: "INC-1", CreationTime: t0Restores.Add(-5 * time.Hour), EndTime: t0Restores.Add(-5*time.Hour + 10*time.Minute)}
			if !r.CreationTime.Equal(want.CreationTime) || !r.EndTime.Equal(want.EndTime) {
				t.Errorf("times %v %v", r.CreationTime, r.EndTime)
			}
			r.CreationTime, r.EndTime, want.CreationTime, want.EndTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if r != want {
				t.Errorf("restore 0 = %+v\nwant %+v", r, want)
			}
			if ty := []string{all[1].Type, all[2].Type, all[3].Type}; !slices.Equal(ty, []string{"OneDrive", "SharePoint", "Teams"}) {
				t.Errorf("types %v", ty)
			}
			if run := all[4]; run.Ended() || run.State != "Working" || run.Duration(t0Restores) != time.Hour {
				t.Errorf("running restore %+v: ended %v, duration %v", run, run.Ended(), run.Duration(t0Restores))
			}
			if !all[0].Ended() || all[0].Duration(t0Restores) != 10*time.Minute {
				t.Errorf("ended restore: ended %v, duration %v", all[0].Ended(), all[0].Duration(t0Restores))
			}

			// startTimeFrom is inclusive: from restore 3's creation, 3 and 4.
			from, _ := listRestores(t, c, RestoreQuery{StartFrom: t0Restores.Add(-2 * time.Hour)})
			if ids := restoreIDs(from); !slices.Equal(ids, []string{restoreID(3), restoreID(4)}) {
				t.Errorf("startTimeFrom: %v", ids)
			}
			// endTimeFrom exists in v8 only: it keeps the ended restores that ended from then on.
			ended, _ := listRestores(t, c, RestoreQuery{EndFrom: t0Restores.Add(-3*time.Hour + 10*time.Minute)})
			want8 := []string{restoreID(2), restoreID(3)}
			if version != "v8" {
				want8 = restoreIDs(all)
			}
			if ids := restoreIDs(ended); !slices.Equal(ids, want8) {
				t.Errorf("endTimeFrom: %v, want %v", ids, want8)
			}
			if n := sim.Stats().ByEndpoint[simulator.EndpointRestoreSessions]; n != 3 {
				t.Errorf("%d list requests, want 3", n)
			}

			// Followed by ID until it ends; its result then counts.
			got, err := c.GetRestoreSession(context.Background(), ID(restoreID(4)))
			if err != nil || got.Ended() || got.Type != "Exchange" {
				t.Fatalf("GetRestoreSession: %v %+v", err, got)
			}
			if err := sim.UpdateRestoreSession(restoreID(4), func(rs *simulator.RestoreSession) {
				rs.EndTime, rs.Result = t0Restores, simulator.StatusWarning
			}); err != nil {
				t.Fatal(err)
			}
			got, err = c.GetRestoreSession(context.Background(), ID(restoreID(4)))
			if err != nil || !got.Ended() || got.Result != "Warning" || got.State != "Stopped" || got.Duration(t0Restores.Add(time.Hour)) != time.Hour {
				t.Errorf("ended: %v %+v", err, got)
			}
			if _, err := c.GetRestoreSession(context.Background(), ID(restoreID(9))); Reason(err) != "not found" {
				t.Errorf("unknown restore: %v (%s)", err, Reason(err))
			}
		})
	}
}

// The query each version is sent: v6 and v7 know only the start bounds.
func TestRestoreSessionsQuery(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			var mu sync.Mutex
			var asked []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/token") {
					fmt.Fprint(w, `{"access_token":"tok-1","refresh_token":"ref-1","expires_in":3600}`)
					return
				}
				mu.Lock()
				asked = append(asked, r.URL.Path+"?"+r.URL.RawQuery)
				mu.Unlock()
				fmt.Fprint(w, `{"offset":0,"limit":1000,"results":[]}`)
			}))
			defer srv.Close()
			c, err := New(Options{BaseURL: srv.URL, APIVersion: version, Username: "u", Password: func() string { return "p" }})
			if err != nil {
				t.Fatal(err)
			}
			from := time.Date(2026, 3, 1, 11, 0, 0, 900e6, time.FixedZone("x", 3600))
			listRestores(t, c, RestoreQuery{StartFrom: from, EndFrom: from.Add(time.Minute)})
			want := "/" + version + "/RestoreSessions?limit=1000&offset=0&startTimeFrom=2026-03-01T10%3A00%3A00Z"
			if version == "v8" {
				want = "/v8/RestoreSessions?endTimeFrom=2026-03-01T10%3A01%3A00Z&limit=1000&offset=0&orderAsc=true&orderBy=CreationTime&startTimeFrom=2026-03-01T10%3A00%3A00Z"
			}
			if len(asked) != 1 || asked[0] != want {
				t.Errorf("asked %v\nwant %s", asked, want)
			}
		})
	}
}

// Every server string of a restore is scrubbed of every form of the password, loses its
// format characters and is cut; an unknown type is kept as sent, bounded; an entry without
// an ID or creation time is Invalid, not the list's end; MaxPages cuts an endless list.
func TestRestoreSessionsHostile(t *testing.T) {
	var forms []string
	for _, f := range secretForms(echoPassword) {
		forms = append(forms, f)
	}
	slices.Sort(forms)
	entry := func(i int, id string) map[string]any {
		f := forms[i%len(forms)]
		return map[string]any{"id": id, "creationTime": "2026-03-01T10:00:00Z", "endTime": nil, "state": "Working", "result": "Success",
			"organization": "org\u202e password=" + f + " end", "type": strings.Repeat("Vxx\u200b", 40) + f,
			"initiatedBy": "CORP\\" + f + "\u2066op", "reason": strings.Repeat("r", 300) + f, "clientHost": f, "scopeName": f,
			"details": "details " + f, "name": f}
	}
	var mu sync.Mutex
	pages := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") {
			fmt.Fprint(w, `{"access_token":"tok-1","refresh_token":"ref-1","expires_in":3600}`)
			return
		}
		mu.Lock()
		pages++
		mu.Unlock()
		if strings.Contains(r.URL.Path, "/RestoreSessions/") {
			_ = json.NewEncoder(w).Encode(entry(3, "4E570000-0000-4000-8000-000000000001"))
			return
		}
		var off int
		_, _ = fmt.Sscan(r.URL.Query().Get("offset"), &off)
		results := []any{entry(off, restoreID(off)), map[string]any{"creationTime": "2026-03-01T10:00:00Z"}, map[string]any{"id": "x"}}
		for i := range len(forms) {
			results = append(results, entry(i, restoreID(off+3+i)))
		}
		// Endless: always a full page and a link to the next.
		_ = json.NewEncoder(w).Encode(map[string]any{"offset": off, "limit": len(results), "results": results,
			"_links": map[string]any{"next": map[string]any{"href": "/v8/RestoreSessions?offset=1"}}})
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, APIVersion: "v8", Username: "u", Password: func() string { return echoPassword }})
	if err != nil {
		t.Fatal(err)
	}
	var got []RestoreSession
	st, err := c.RestoreSessions(context.Background(), RestoreQuery{MaxPages: 3}, func(r RestoreSession) { got = append(got, r) })
	if err != nil || !st.Truncated || st.Invalid != 6 || len(got) != 3*(len(forms)+1) || pages != 3 {
		t.Fatalf("err %v, stats %+v, %d restores in %d pages", err, st, len(got), pages)
	}
	one, err := c.GetRestoreSession(context.Background(), ID(restoreID(1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(got, *one) {
		for name, s := range map[string]string{"organization": r.Organization, "type": r.Type, "initiatedBy": r.InitiatedBy, "reason": r.Reason,
			"clientHost": r.ClientHost, "scope": r.Scope, "details": r.Details, "name": r.Name} {
			assertNoSecret(t, s, echoPassword)
			if strings.ContainsAny(s, "\u202e\u2066\u200b") {
				t.Errorf("%s keeps a format character: %q", name, s)
			}
		}
		if len(r.Type) > MaxEnumBytes || len(r.Reason) > MaxReasonBytes || !strings.HasPrefix(r.Type, "VxxVxx") {
			t.Errorf("type %q (%d bytes), reason %d bytes", r.Type, len(r.Type), len(r.Reason))
		}
		if !strings.HasPrefix(r.Organization, "org password=") || !strings.Contains(r.Organization, "<secret>") || !strings.Contains(r.InitiatedBy, "<secret>") {
			t.Errorf("organization %q, initiatedBy %q", r.Organization, r.InitiatedBy)
		}
	}
	// Without MaxPages, an endless list is an error, not a loop.
	if _, err := c.RestoreSessions(context.Background(), RestoreQuery{}, func(RestoreSession) {}); err == nil || !strings.Contains(err.Error(), "more than 1000 pages") {
		t.Errorf("endless list: %v", err)
	}
}
