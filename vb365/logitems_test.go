package vb365_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const logTestPassword = "pw-Zq8!vX3#kL"

type logEnv struct {
	sim *simulator.Simulator
	srv *httptest.Server
	now time.Time
	mu  sync.Mutex
	// queries records the query string of every LogItems request.
	queries []string
}

func newLogEnv(t *testing.T) *logEnv {
	t.Helper()
	e := &logEnv{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e.sim = simulator.New(simulator.Options{Username: "u", Password: logTestPassword, Now: func() time.Time { return e.now }})
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/LogItems") {
			e.mu.Lock()
			e.queries = append(e.queries, r.URL.RawQuery)
			e.mu.Unlock()
		}
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		e.sim.ClearFaults()
		e.srv.Close()
	})
	return e
}

func (e *logEnv) logQueries() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.queries...)
}

func (e *logEnv) client(t *testing.T, version string) *vb365.Client {
	t.Helper()
	c, err := vb365.New(vb365.Options{BaseURL: e.srv.URL, APIVersion: version, Username: "u",
		Password: func() string { return logTestPassword }, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func checkOldestFirst(t *testing.T, items []vb365.LogItem) {
	t.Helper()
	for i := 1; i < len(items); i++ {
		a, b := items[i-1], items[i]
		if b.CreationTime.Before(a.CreationTime) || b.CreationTime.Equal(a.CreationTime) && b.USN < a.USN {
			t.Fatalf("items %d and %d out of order: %+v, %+v", i-1, i, a, b)
		}
	}
}

// The demo's logs come back oldest first with their types on every version (v6/v7 carry the
// type only in the title), and the reasons picked are the demo's documented ones.
func TestSessionLogItemsDemoReasons(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			e := newLogEnv(t)
			e.sim.LoadDemoData()
			e.now = e.now.Add(10 * time.Minute) // the running demo sessions have ended
			c := e.client(t, version)
			for _, tc := range []struct{ id, status, typ, want string }{
				{simulator.DemoFailedID, vb365.StatusFailed, vb365.LogError, simulator.DemoFailedReason},
				{simulator.DemoWarningID, vb365.StatusWarning, vb365.LogWarning, simulator.DemoWarningReason},
				{simulator.DemoRunningFailedID, vb365.StatusFailed, vb365.LogError, simulator.DemoRunningFailedReason},
				{simulator.DemoRunningWarningID, vb365.StatusWarning, vb365.LogWarning, simulator.DemoRunningWarningReason},
			} {
				items, err := c.SessionLogItems(context.Background(), vb365.ID(tc.id))
				if err != nil {
					t.Fatalf("%s: %v", tc.id, err)
				}
				set, _ := e.sim.LogItems(tc.id)
				if len(items) != len(set) {
					t.Fatalf("%s: %d items, the simulator holds %d", tc.id, len(items), len(set))
				}
				checkOldestFirst(t, items)
				for _, it := range items {
					if it.Type == "" || it.Message == "" || strings.HasPrefix(it.Message, "[") || it.ID == "" || it.CreationTime.IsZero() {
						t.Errorf("%s: item not fully decoded: %+v", tc.id, it)
					}
				}
				r, ok := vb365.PickReason(tc.status, items)
				if !ok || r.Type != tc.typ || r.Message != tc.want {
					t.Errorf("%s: reason %+v (%v), want %s %q", tc.id, r, ok, tc.typ, tc.want)
				}
			}
			if n := e.sim.Stats().ByEndpoint[simulator.EndpointLogItems]; n != 4 {
				t.Errorf("%d LogItems requests for four short logs, want 4", n)
			}
		})
	}
}

func manyItems(n int, start time.Time) []simulator.LogItem {
	items := make([]simulator.LogItem, n)
	for i := range items {
		typ := simulator.LogSuccess
		if i%100 == 99 {
			typ = simulator.LogError
		}
		items[i] = simulator.LogItem{Type: typ, Message: fmt.Sprintf("item %d", i+1), USN: int64(i + 1),
			// Pairs share a creation time, so usn must order them.
			CreationTime: start.Add(time.Duration(i/2) * time.Second)}
	}
	return items
}

// A log of several pages is read whole, each page once; v8 is asked for newest first, v6/v7
// get no orderAsc (they do not know it); the result is oldest first everywhere.
func TestSessionLogItemsPagesAndOrder(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			e := newLogEnv(t)
			ref := simulator.ReferenceSession()
			if err := e.sim.AddSession(ref); err != nil {
				t.Fatal(err)
			}
			if err := e.sim.SetLogItems(ref.ID, manyItems(2500, ref.CreationTime)); err != nil {
				t.Fatal(err)
			}
			items, err := e.client(t, version).SessionLogItems(context.Background(), vb365.ID(ref.ID))
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 2500 || items[0].Message != "item 1" || items[2499].Message != "item 2500" {
				t.Fatalf("%d items, first %+v", len(items), items[0])
			}
			checkOldestFirst(t, items)
			queries := e.logQueries()
			if len(queries) != 3 {
				t.Fatalf("%d requests for 2,500 items in pages of 1,000: %v", len(queries), queries)
			}
			for _, q := range queries {
				if has := strings.Contains(q, "orderAsc=false"); has != (version == "v8") || !strings.Contains(q, "limit=1000") {
					t.Errorf("query %q", q)
				}
			}
			r, ok := vb365.PickReason(vb365.StatusFailed, items)
			if !ok || r.Message != "item 2500" {
				t.Errorf("reason %+v", r)
			}
		})
	}
}

// A log longer than the bounds costs at most 20 requests and keeps the newest 10,000 items,
// where the session's outcome is.
func TestSessionLogItemsBounded(t *testing.T) {
	for _, version := range []string{"v6", "v8"} {
		t.Run(version, func(t *testing.T) {
			e := newLogEnv(t)
			ref := simulator.ReferenceSession()
			if err := e.sim.AddSession(ref); err != nil {
				t.Fatal(err)
			}
			if err := e.sim.SetLogItems(ref.ID, manyItems(25000, ref.CreationTime)); err != nil {
				t.Fatal(err)
			}
			items, err := e.client(t, version).SessionLogItems(context.Background(), vb365.ID(ref.ID))
			if err != nil {
				t.Fatal(err)
			}
			if n := e.sim.Stats().ByEndpoint[simulator.EndpointLogItems]; n != 20 {
				t.Errorf("%d requests, want the bound of 20", n)
			}
			if len(items) != 10000 || items[0].Message != "item 15001" || items[9999].Message != "item 25000" {
				t.Fatalf("%d items from %q to %q", len(items), items[0].Message, items[len(items)-1].Message)
			}
			checkOldestFirst(t, items)
		})
	}
}

// A long message is cut to 2 KiB on a rune boundary; a secret it echoes is masked before the
// cut, so no part of it survives at the edge.
func TestSessionLogItemsCutAndScrubbed(t *testing.T) {
	e := newLogEnv(t)
	ref := simulator.ReferenceSession()
	if err := e.sim.AddSession(ref); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 3000)
	edge := strings.Repeat("x", 2040) + logTestPassword + " tail"
	if err := e.sim.SetLogItems(ref.ID, []simulator.LogItem{
		{Type: simulator.LogError, Message: long, CreationTime: ref.CreationTime},
		{Type: simulator.LogError, Message: "login as u with password " + logTestPassword + " refused", CreationTime: ref.CreationTime.Add(time.Second)},
		{Type: simulator.LogError, Message: edge, CreationTime: ref.CreationTime.Add(2 * time.Second)},
	}); err != nil {
		t.Fatal(err)
	}
	items, err := e.client(t, "v8").SessionLogItems(context.Background(), vb365.ID(ref.ID))
	if err != nil || len(items) != 3 {
		t.Fatalf("%v, %d items", err, len(items))
	}
	if m := items[0].Message; len(m) > 2048 || !utf8.ValidString(m) || !strings.HasSuffix(m, "…") || !strings.HasPrefix(m, "éé") {
		t.Errorf("long message cut to %d bytes, valid %v", len(m), utf8.ValidString(m))
	}
	for _, it := range items[1:] {
		if strings.Contains(it.Message, logTestPassword[:5]) {
			t.Errorf("part of the password in message …%q", it.Message[max(0, len(it.Message)-40):])
		}
	}
	if !strings.Contains(items[1].Message, "<secret>") {
		t.Errorf("password not masked: %q", items[1].Message)
	}
}

// A server that echoes the request puts the bearer token into a log message; it is masked.
func TestSessionLogItemsScrubsEchoedToken(t *testing.T) {
	sim := simulator.New(simulator.Options{Username: "u", Password: logTestPassword})
	sentTokens := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/LogItems") {
			sim.ServeHTTP(w, r)
			return
		}
		sent := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		sentTokens <- sent
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"offset":0,"limit":1000,"results":[{"id":"aaaaaaaa-0000-4000-8000-000000000001","usn":1,"title":"[Error] request with Authorization: Bearer %s was refused","creationTime":"2026-03-01T12:00:00Z"}],"totalCount":1}`, sent)
	}))
	defer srv.Close()
	c, err := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: "v7", Username: "u", Password: func() string { return logTestPassword }})
	if err != nil {
		t.Fatal(err)
	}
	items, err := c.SessionLogItems(context.Background(), simulator.ReferenceSessionID)
	if err != nil || len(items) != 1 {
		t.Fatalf("%v %v", err, items)
	}
	sent := <-sentTokens
	if sent == "" || strings.Contains(items[0].Message, sent) || !strings.Contains(items[0].Message, "<secret>") || items[0].Type != vb365.LogError {
		t.Errorf("item %+v (token %d bytes)", items[0], len(sent))
	}
}

// v6/v7 titles: the bracketed type is split off when it is one Veeam uses.
func TestSessionLogItemsTitles(t *testing.T) {
	titles := []struct{ title, typ, msg string }{
		{"[Success] Job started at 4/4/2017 12:07:21 AM", vb365.LogSuccess, "Job started at 4/4/2017 12:07:21 AM"},
		{"[warning] Throttled", vb365.LogWarning, "Throttled"},
		{"[Failed] Could not retrieve item", vb365.LogError, "Could not retrieve item"},
		{"[Stop]", vb365.LogStop, ""},
		{"[Note] something", "", "[Note] something"},
		{"Processing mailbox", "", "Processing mailbox"},
		{"[] empty", "", "[] empty"},
	}
	var results []string
	for i, tc := range titles {
		results = append(results, fmt.Sprintf(`{"id":"aaaaaaaa-0000-4000-8000-%012d","usn":%d,"title":%q,"creationTime":"2026-03-01T12:00:0%dZ"}`, i, i, tc.title, i))
	}
	// One broken item (a time that is no time) must not hide the others.
	results = append(results, `{"id":"bbbbbbbb-0000-4000-8000-000000000000","title":"[Error] x","creationTime":"yesterday"}`)
	sim := simulator.New(simulator.Options{Username: "u", Password: logTestPassword})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/LogItems") {
			sim.ServeHTTP(w, r)
			return
		}
		fmt.Fprintf(w, `{"offset":0,"limit":1000,"results":[%s],"totalCount":%d}`, strings.Join(results, ","), len(results))
	}))
	defer srv.Close()
	c, err := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: "v6", Username: "u", Password: func() string { return logTestPassword }})
	if err != nil {
		t.Fatal(err)
	}
	items, err := c.SessionLogItems(context.Background(), simulator.ReferenceSessionID)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(titles) {
		t.Fatalf("%d items, want %d: %+v", len(items), len(titles), items)
	}
	for i, tc := range titles {
		if items[i].Type != tc.typ || items[i].Message != tc.msg {
			t.Errorf("%q: type %q message %q, want %q %q", tc.title, items[i].Type, items[i].Message, tc.typ, tc.msg)
		}
	}
}

// A log endpoint that fails, stalls or answers garbage gives an error, within the deadline,
// and does not disturb the session endpoint.
func TestSessionLogItemsFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault simulator.Fault
		check func(error) bool
	}{
		{"unknown session", simulator.Fault{}, func(err error) bool {
			var apiErr *vb365.APIError
			return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
		}},
		{"status", simulator.Fault{Kind: simulator.FaultStatus, Status: 500}, func(err error) bool {
			var apiErr *vb365.APIError
			return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusInternalServerError
		}},
		{"malformed", simulator.Fault{Kind: simulator.FaultMalformed}, func(err error) bool {
			var decErr *vb365.DecodeError
			return errors.As(err, &decErr) && decErr.Endpoint == "logitems"
		}},
		{"huge", simulator.Fault{Kind: simulator.FaultHuge, Bytes: 9 << 20}, func(err error) bool { return errors.Is(err, vb365.ErrBodyTooLarge) }},
		{"stall", simulator.Fault{Kind: simulator.FaultStall}, func(err error) bool { return err != nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newLogEnv(t)
			e.sim.LoadDemoData()
			id := simulator.DemoFailedID
			if tc.fault.Kind == "" {
				id = "00000000-0000-4000-8000-000000000000"
			} else {
				tc.fault.Endpoint = simulator.EndpointLogItems
				if err := e.sim.SetFault(tc.fault); err != nil {
					t.Fatal(err)
				}
			}
			c := e.client(t, "v8")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			items, err := c.SessionLogItems(ctx, vb365.ID(id))
			if !tc.check(err) || items != nil {
				t.Errorf("got %v, %d items", err, len(items))
			}
			if _, err := c.GetSession(context.Background(), simulator.DemoFailedID); err != nil {
				t.Errorf("session read after the log fault: %v", err)
			}
		})
	}
}

func item(typ, msg string, sec int, usn int64) vb365.LogItem {
	return vb365.LogItem{Type: typ, Message: msg, USN: usn, CreationTime: time.Date(2026, 3, 1, 12, 0, sec, 0, time.UTC)}
}

func TestPickReason(t *testing.T) {
	mixed := []vb365.LogItem{
		item(vb365.LogSuccess, "started", 0, 1),
		item(vb365.LogError, "first error", 1, 2),
		item(vb365.LogWarning, "first warning", 2, 3),
		item(vb365.LogError, "last error", 3, 4),
		item(vb365.LogWarning, "last warning", 4, 5),
		item(vb365.LogSuccess, "finished", 5, 6),
	}
	reversed := make([]vb365.LogItem, len(mixed))
	for i, it := range mixed {
		reversed[len(mixed)-1-i] = it
	}
	warningsOnly := []vb365.LogItem{item(vb365.LogWarning, "w1", 0, 1), item(vb365.LogWarning, "w2", 1, 2)}
	errorsOnly := []vb365.LogItem{item(vb365.LogError, "e1", 0, 1), item(vb365.LogError, "e2", 1, 2)}
	// Same creation time: the order number decides, not the position.
	tied := []vb365.LogItem{item(vb365.LogError, "usn 9", 0, 9), item(vb365.LogError, "usn 3", 0, 3)}
	for _, tc := range []struct {
		name   string
		status string
		items  []vb365.LogItem
		want   string // "" = no reason
	}{
		{"failed takes the last error", vb365.StatusFailed, mixed, "last error"},
		{"warning takes the last warning", vb365.StatusWarning, mixed, "last warning"},
		{"order of the slice does not matter", vb365.StatusFailed, reversed, "last error"},
		{"failed falls back to a warning", vb365.StatusFailed, warningsOnly, "w2"},
		{"warning falls back to an error", vb365.StatusWarning, errorsOnly, "e2"},
		{"usn breaks a tie", vb365.StatusFailed, tied, "usn 9"},
		{"no error or warning", vb365.StatusFailed, []vb365.LogItem{item(vb365.LogSuccess, "ok", 0, 1)}, ""},
		{"empty log", vb365.StatusWarning, nil, ""},
		{"success has no reason", vb365.StatusSuccess, mixed, ""},
		{"stopped has no reason", vb365.StatusStopped, mixed, ""},
		{"running has no reason", vb365.StatusRunning, mixed, ""},
	} {
		got, ok := vb365.PickReason(tc.status, tc.items)
		if ok != (tc.want != "") || got.Message != tc.want {
			t.Errorf("%s: got %q (%v), want %q", tc.name, got.Message, ok, tc.want)
		}
	}
}

func TestReasonMessage(t *testing.T) {
	at200 := strings.Repeat("a", 200)
	for _, tc := range []struct{ name, in, want string }{
		{"whitespace collapsed", "  Failed\tto\r\nretrieve \u00a0 item  ", "Failed to retrieve item"},
		{"control characters", "a\x00b\x1bc", "a b c"},
		{"invisible format characters", "safe\u202etxt.exe\u200b", "safetxt.exe"},
		{"invalid UTF-8", "bad \xff\xfe byte", "bad \ufffd byte"},
		{"exactly 200 bytes", at200, at200},
		{"201 bytes", at200 + "b", strings.Repeat("a", 197) + "…"},
		{"multi-byte rune at the cut", strings.Repeat("a", 196) + "€€", strings.Repeat("a", 196) + "…"},
		{"empty", " \n ", ""},
	} {
		got := vb365.ReasonMessage(tc.in)
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
		if len(got) > vb365.MaxReasonBytes || !utf8.ValidString(got) {
			t.Errorf("%s: %d bytes, valid UTF-8 %v", tc.name, len(got), utf8.ValidString(got))
		}
	}
	// Whatever the input, the result is valid UTF-8 and at most 200 bytes.
	for n := 195; n <= 210; n++ {
		for _, r := range []string{"é", "€", "𝄞", "\xff"} {
			s := strings.Repeat("x", n%4) + strings.Repeat(r, n)
			if got := vb365.ReasonMessage(s); len(got) > 200 || !utf8.ValidString(got) {
				t.Errorf("%d × %q: %d bytes, valid %v", n, r, len(got), utf8.ValidString(got))
			}
		}
	}
}

// Issue 20 point 9: v6 and v7 log items may have only a title, with no "[Type]" prefix.
// The reason is then chosen by the words of the items, and the closing line ("Job finished
// with error") gives way to the item before it that says what went wrong; titles with the
// prefix are read as before.
func TestReasonWithAndWithoutTypePrefix(t *testing.T) {
	plain := []string{
		"Job started at 3/1/2026 11:00:00 AM",
		"Processing mailbox a@example.com completed with 0 errors",
		"Mailbox b@example.com: item too large, skipped with warning",
		"Failed to process mailbox c@example.com: access denied",
		"Processing mailbox d@example.com finished",
		"Job finished with error at 3/1/2026 11:05:00 AM",
	}
	prefixed := []string{"[Success] Job started", "[Error] Archive tier blob not available", "[Warning] Throttled", "[Success] Job finished"}
	for _, tc := range []struct {
		name, status string
		titles       []string
		typ, msg     string
		errs, warns  int
	}{
		{"plain failed", vb365.StatusFailed, plain, vb365.LogError, "Failed to process mailbox c@example.com: access denied", 2, 1},
		{"plain warning", vb365.StatusWarning, plain, vb365.LogWarning, "Mailbox b@example.com: item too large, skipped with warning", 2, 1},
		{"plain failed, one error word", vb365.StatusFailed, plain[:4], vb365.LogError, "Failed to process mailbox c@example.com: access denied", 1, 1},
		{"prefixed failed", vb365.StatusFailed, prefixed, vb365.LogError, "Archive tier blob not available", 1, 1},
		{"prefixed warning", vb365.StatusWarning, prefixed, vb365.LogWarning, "Throttled", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var results []string
			for i, title := range tc.titles {
				results = append(results, fmt.Sprintf(`{"id":"aaaaaaaa-0000-4000-8000-%012d","usn":%d,"title":%q,"creationTime":"2026-03-01T11:0%d:00Z"}`, i, i, title, i))
			}
			sim := simulator.New(simulator.Options{Username: "u", Password: logTestPassword})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/LogItems") {
					sim.ServeHTTP(w, r)
					return
				}
				// Newest first, as the simulator serves v6: the order must not matter.
				slices.Reverse(results)
				fmt.Fprintf(w, `{"offset":0,"limit":1000,"results":[%s],"totalCount":%d}`, strings.Join(results, ","), len(results))
			}))
			defer srv.Close()
			c, err := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: "v6", Username: "u", Password: func() string { return logTestPassword }})
			if err != nil {
				t.Fatal(err)
			}
			var p vb365.LogProgress
			if err := c.ReadLog(context.Background(), vb365.SessionLogPath(simulator.ReferenceSessionID), &p); err != nil {
				t.Fatal(err)
			}
			why, ok := p.Summary.Reason(tc.status)
			if !ok || why.Type != tc.typ || why.Message != tc.msg || p.Summary.Errors != tc.errs || p.Summary.Warnings != tc.warns {
				t.Errorf("reason %v %q %q, %d errors, %d warnings; want %q %q, %d, %d", ok, why.Type, why.Message, p.Summary.Errors, p.Summary.Warnings, tc.typ, tc.msg, tc.errs, tc.warns)
			}
			items, err := c.SessionLogItems(context.Background(), simulator.ReferenceSessionID)
			if err != nil {
				t.Fatal(err)
			}
			if w2, ok2 := vb365.PickReason(tc.status, items); ok2 != ok || w2 != why {
				t.Errorf("PickReason over the items gives %+v, the summary %+v", w2, why)
			}
		})
	}
}
