package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

func restoresJSON(t *testing.T, o RestoresOptions) ([]jsonRestore, string) {
	t.Helper()
	_, cfg := startDemo(t)
	o.Output = "json"
	var out, errOut bytes.Buffer
	if err := Restores(context.Background(), cfg, o, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var rs []jsonRestore
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	return rs, errOut.String()
}

// Who restored what, in every API version: the demo's restores of the last 24h newest
// first (v6/v7 list oldest first, v8 is asked for oldest first: the order is made here),
// the running one as Running whatever result the API sends, the three-day-old one left out.
func TestRestoresEveryVersion(t *testing.T) {
	for _, v := range []string{"v6", "v7", "v8"} {
		t.Run(v, func(t *testing.T) {
			rs, warn := restoresJSON(t, RestoresOptions{Server: v})
			var ids []string
			for _, r := range rs {
				ids = append(ids, string(r.ID))
			}
			want := []string{simulator.DemoRestoreRunningID, simulator.DemoRestoreFailedID, simulator.DemoRestoreWarningID, simulator.DemoRestoreSuccessID}
			if strings.Join(ids, " ") != strings.Join(want, " ") || warn != "" {
				t.Fatalf("restores %v (stderr %q), want %v", ids, warn, want)
			}
			run, failed, warning := rs[0], rs[1], rs[2]
			if run.Result != "Running" || run.EndTime != nil || run.Type != "Teams" || run.InitiatedBy != `NORTHWIND\it.operator` ||
				run.DurationSeconds < 200 {
				t.Errorf("running restore: %+v", run)
			}
			if failed.Result != "Failed" || failed.Organization != "contoso.onmicrosoft.com" || failed.Type != "SharePoint" ||
				failed.InitiatedBy != `CONTOSO\backup-admin` || failed.ClientHost != "vbo-console01.contoso.local" ||
				failed.Reason != "Legal hold review" || failed.Details != simulator.DemoRestoreFailedDetails ||
				failed.EndTime == nil || failed.DurationSeconds != 120 {
				t.Errorf("failed restore: %+v", failed)
			}
			if warning.Result != "Warning" || warning.Scope != "Fabrikam self-service" || warning.Type != "OneDrive" {
				t.Errorf("warning restore: %+v", warning)
			}
		})
	}
}

// --since reaches back further, --limit keeps the newest and says how many more matched.
func TestRestoresSinceAndLimit(t *testing.T) {
	rs, _ := restoresJSON(t, RestoresOptions{Server: "v7", Since: "7d"})
	if len(rs) != 5 || rs[4].ID != simulator.DemoRestoreOldID {
		t.Errorf("--since 7d: %+v, want the five demo restores, the old one last", rs)
	}
	rs, warn := restoresJSON(t, RestoresOptions{Server: "v8", Since: "7d", Limit: 2})
	if len(rs) != 2 || rs[0].ID != simulator.DemoRestoreRunningID || rs[1].ID != simulator.DemoRestoreFailedID ||
		!strings.Contains(warn, "5 restores match; only the newest 2 are shown") {
		t.Errorf("--limit 2: %+v, stderr %q", rs, warn)
	}
}

func TestRestoresTable(t *testing.T) {
	sim, cfg := startDemo(t)
	// A restore from a hostile server: its strings cannot forge a row or reach the terminal
	// as an escape sequence.
	if err := sim.AddRestoreSession(simulator.RestoreSession{ID: "4e570009-0000-4000-8000-000000000009", Organization: "evil\x1b]0;pwned\x07\nforged row",
		Type: "Vex", CreationTime: time.Now().Add(-time.Hour), EndTime: time.Now().Add(-59 * time.Minute), InitiatedBy: "x\u2028y"}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Restores(context.Background(), cfg, RestoresOptions{Server: "v8"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if h := strings.Join(strings.Fields(lines[0]), " "); h != "STARTED ORGANIZATION TYPE INITIATED BY CLIENT HOST SCOPE RESULT DURATION REASON DETAILS" {
		t.Errorf("header %q", lines[0])
	}
	if len(lines) != 6 || !strings.Contains(lines[1], "northwind.onmicrosoft.com  Teams") || !strings.Contains(lines[1], " Running ") ||
		!strings.Contains(strings.Join(strings.Fields(lines[2]), " "), `CONTOSO\backup-admin vbo-console01.contoso.local - Failed 2m0s Legal hold review Failed to restore site`) {
		t.Errorf("table:\n%s", out.String())
	}
	if strings.ContainsAny(out.String(), "\x1b\x07\u2028") || !strings.Contains(lines[5], "evil ]0;pwned forged row") {
		t.Errorf("a server string reached the table unprintable:\n%q", out.String())
	}
}

func TestRestoresErrors(t *testing.T) {
	sim, cfg := startDemo(t)
	for _, tc := range []struct {
		o    RestoresOptions
		want string
	}{
		{RestoresOptions{Server: "v8", Since: "yesterday"}, `--since: "yesterday" is not a positive duration`},
		{RestoresOptions{Server: "v8", Limit: MaxListed + 1}, "--limit: must be 0 to 10000"},
		{RestoresOptions{Server: "v9"}, `--server "v9" is not in the config`},
		{RestoresOptions{}, "the config has 3 servers; pick one with --server"},
	} {
		if err := Restores(context.Background(), cfg, tc.o, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	// The server fails the list: the error names the server and what failed; nothing printed.
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultStatus, Status: 500}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := Restores(context.Background(), cfg, RestoresOptions{Server: "v6"}, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `server "v6"`) || !strings.Contains(err.Error(), "cannot list restore sessions") || out.Len() != 0 {
		t.Errorf("err = %v, printed %q", err, out.String())
	}
	sim.ClearFaults()
	// A list that comes too slowly ends at --timeout with a message naming the flag.
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultStall}); err != nil {
		t.Fatal(err)
	}
	err = Restores(context.Background(), cfg, RestoresOptions{Server: "v8", Timeout: 300 * time.Millisecond}, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "did not end within --timeout 300ms") {
		t.Errorf("err = %v", err)
	}
}
