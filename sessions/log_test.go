package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const (
	testUser     = `EXAMPLE\monitoring`
	testPassword = "Log-Test-Secret-9!"
)

// startDemo serves the simulator's demo data and returns it with a loaded config that names
// it once per API version, as server "v6", "v7" and "v8".
func startDemo(t *testing.T) (*simulator.Simulator, *config.Config) {
	t.Helper()
	sim := simulator.New(simulator.Options{Username: testUser, Password: testPassword})
	sim.LoadDemoData()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte(testPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("servers:\n")
	for _, v := range []string{"v6", "v7", "v8"} {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    username: '%s'\n    password_file: %s\n    api_version: %s\n    sessions: []\n",
			v, srv.URL, testUser, pw, v)
	}
	file := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return sim, cfg
}

type loggedItem struct {
	ID           string     `json:"id"`
	USN          int64      `json:"usn"`
	Type         string     `json:"type"`
	Message      string     `json:"message"`
	CreationTime time.Time  `json:"creationTime"`
	EndTime      *time.Time `json:"endTime"`
}

func logJSON(t *testing.T, cfg *config.Config, o LogOptions) []loggedItem {
	t.Helper()
	o.Output = "json"
	var out bytes.Buffer
	if err := Log(context.Background(), cfg, o, &out); err != nil {
		t.Fatal(err)
	}
	var got []loggedItem
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	return got
}

// The log comes out oldest first in every API version, although the simulator serves v6 and
// v7 newest first and v8 is asked for newest first, and its last Error is the demo's reason.
func TestLogOldestFirstEveryVersion(t *testing.T) {
	sim, cfg := startDemo(t)
	want, ok := sim.LogItems(simulator.DemoFailedID)
	if !ok || len(want) < 3 {
		t.Fatalf("the demo's Failed session has no log: %v", want)
	}
	slices.SortFunc(want, func(a, b simulator.LogItem) int { return a.CreationTime.Compare(b.CreationTime) })
	for _, v := range []string{"v6", "v7", "v8"} {
		t.Run(v, func(t *testing.T) {
			got := logJSON(t, cfg, LogOptions{Server: v, SessionID: strings.ToUpper(simulator.DemoFailedID)})
			if len(got) != len(want) {
				t.Fatalf("%d items, want %d: %+v", len(got), len(want), got)
			}
			for i := range got {
				// The wire carries times to the microsecond at best.
				if got[i].ID != want[i].ID || got[i].Type != want[i].Type || got[i].Message != want[i].Message ||
					got[i].CreationTime.Sub(want[i].CreationTime).Abs() >= time.Millisecond {
					t.Errorf("item %d is %+v, want %+v", i, got[i], want[i])
				}
				if got[i].ID == "" || got[i].EndTime == nil {
					t.Errorf("item %d lacks its id or endTime: %+v", i, got[i])
				}
			}
			if last := got[len(got)-1]; last.Type != "Error" || last.Message != simulator.DemoFailedReason {
				t.Errorf("last item %+v, want the Error %q", last, simulator.DemoFailedReason)
			}
		})
	}
}

func TestLogTable(t *testing.T) {
	sim, cfg := startDemo(t)
	// A message with its own newlines, tabs and an escape sequence stays on its row.
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	if err := sim.SetLogItems(simulator.DemoWarningID, []simulator.LogItem{
		{Type: simulator.LogSuccess, Message: "started", CreationTime: start},
		{Type: simulator.LogWarning, Message: "line one\n\tline two\x1b[2J", CreationTime: start.Add(time.Minute)},
	}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Log(context.Background(), cfg, LogOptions{Server: "v8", SessionID: simulator.DemoWarningID}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "TIME TYPE MESSAGE" {
		t.Fatalf("table:\n%s", out.String())
	}
	for i, want := range [][]string{
		{start.Format(cliTimeLayout), "Success", "started"},
		{start.Add(time.Minute).Format(cliTimeLayout), "Warning", "line one line two [2J"},
	} {
		if row := lines[i+1]; !strings.HasPrefix(row, want[0]) || !strings.Contains(row, want[1]) || !strings.HasSuffix(row, want[2]) {
			t.Errorf("row %d is %q, want %q", i+1, row, want)
		}
	}
	if strings.Contains(out.String(), "\x1b") {
		t.Error("an escape sequence reached the terminal")
	}

	out.Reset()
	if err := Log(context.Background(), cfg, LogOptions{Server: "v8", SessionID: simulator.DemoWarningID, Types: "Error"}, &out); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "No log items match." {
		t.Errorf("empty result: %q", got)
	}
}

func TestLogTypeFilter(t *testing.T) {
	sim, cfg := startDemo(t)
	all, _ := sim.LogItems(simulator.DemoFailedID)
	count := func(types ...string) int {
		n := 0
		for _, it := range all {
			if slices.Contains(types, it.Type) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		flag string
		want []string
	}{
		{"Error", []string{"Error"}},
		{"warning, ERROR", []string{"Warning", "Error"}},
		{"Stop", []string{"Stop"}},
		{"", []string{"Running", "Warning", "Error", "Success", "Stop"}},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			got := logJSON(t, cfg, LogOptions{Server: "v7", SessionID: simulator.DemoFailedID, Types: tc.flag})
			if len(got) != count(tc.want...) {
				t.Errorf("--type %q printed %d items, want %d", tc.flag, len(got), count(tc.want...))
			}
			for _, it := range got {
				if !slices.Contains(tc.want, it.Type) {
					t.Errorf("--type %q printed a %s item", tc.flag, it.Type)
				}
			}
		})
	}
	if count("Error") != 2 || count("Warning") != 1 {
		t.Fatalf("the demo's Failed log changed: %+v", all)
	}
}

// An unknown session is the server's 404, named as such; nothing is printed.
func TestLogUnknownSession(t *testing.T) {
	_, cfg := startDemo(t)
	for _, v := range []string{"v6", "v7", "v8"} {
		var out bytes.Buffer
		err := Log(context.Background(), cfg, LogOptions{Server: v, SessionID: "0f0f0f0f-0000-4000-8000-000000000001"}, &out)
		if err == nil || !strings.Contains(err.Error(), "HTTP 404 Not Found") ||
			!strings.Contains(err.Error(), "cannot read the log of session 0f0f0f0f-0000-4000-8000-000000000001") {
			t.Errorf("%s: error %v", v, err)
		}
		if out.Len() != 0 {
			t.Errorf("%s: printed %q", v, out.String())
		}
	}
}

func TestLogOptionsValidate(t *testing.T) {
	id := simulator.DemoFailedID
	for _, tc := range []struct {
		o       LogOptions
		wantErr string
	}{
		{LogOptions{SessionID: id}, ""},
		{LogOptions{SessionID: " " + strings.ToUpper(id) + " ", Types: "error,,Warning", Output: "json"}, ""},
		{LogOptions{SessionID: ""}, "is not a UUID"},
		{LogOptions{SessionID: "not-a-uuid"}, `session ID "not-a-uuid" is not a UUID`},
		{LogOptions{SessionID: id + "/../../Jobs"}, "is not a UUID"},
		{LogOptions{SessionID: "x\x1b[2Jy"}, `session ID "x [2Jy" is not a UUID`},
		{LogOptions{SessionID: id, Types: "Error,Info"}, `--type: unknown log item type "Info" (want Running, Warning, Error, Success, Stop)`},
		{LogOptions{SessionID: id, Types: "Failed"}, `unknown log item type "Failed"`},
		{LogOptions{SessionID: id, Output: "yaml"}, `--output: unknown format "yaml"`},
	} {
		err := tc.o.Validate()
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.o, err)
			} else if string(tc.o.id) != id {
				t.Errorf("%+v: ID normalised to %q", tc.o, tc.o.id)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%+v: error %v, want %q", tc.o, err, tc.wantErr)
		}
	}
}

func TestListOptionsValidate(t *testing.T) {
	o := ListOptions{Status: "failed, WARNING", Since: "7d", Limit: 5, Output: "yaml", RetrievalID: " 8A76872B-7F2C-4C50-95F4-92C4D41BC47C"}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if !o.statuses["Failed"] || !o.statuses["Warning"] || len(o.statuses) != 2 || o.since != 7*24*time.Hour ||
		o.retrievalID != "8a76872b-7f2c-4c50-95f4-92c4d41bc47c" {
		t.Errorf("parsed as %+v", o)
	}
	// A retrieval ID that is not a UUID is a typo; the server would answer it with nothing.
	for _, bad := range []ListOptions{{Status: "Done"}, {Since: "yesterday"}, {Since: "-1h"}, {Limit: -1}, {Output: "xml"}, {RetrievalID: "teams"}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
