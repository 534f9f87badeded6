//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/internal/testenv"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// runCmd runs the exporter binary and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return testenv.RunCmd(t, run, args...)
}

type listedSession struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	RetrievalID      string     `json:"retrievalId"`
	Type             string     `json:"type"`
	Status           string     `json:"status"`
	CreationTime     time.Time  `json:"creationTime"`
	EndTime          *time.Time `json:"endTime"`
	DurationSeconds  float64    `json:"durationSeconds"`
	Progress         int64      `json:"progress"`
	ProcessedObjects int64      `json:"processedObjects"`
}

func listJSON(t *testing.T, args ...string) []listedSession {
	t.Helper()
	code, out, errOut := runCmd(t, append([]string{"sessions", "--output=json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []listedSession
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return got
}

func ids(list []listedSession) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ID
	}
	return out
}

func TestSessionsCommandAgainstSimulator(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			sim := startSim(t, simulator.Options{})
			sim.sim.LoadDemoData()
			cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: version, sim: sim})
			got := listJSON(t, "--config.file="+cfg)
			if len(got) != len(simulator.DemoSessionIDs()) {
				t.Fatalf("listed %d sessions, want %d: %v", len(got), len(simulator.DemoSessionIDs()), ids(got))
			}
			for i, s := range got {
				if i > 0 && s.CreationTime.After(got[i-1].CreationTime) {
					t.Errorf("not newest first: %s after %s", s.ID, got[i-1].ID)
				}
				want, ok := sim.sim.Session(s.ID)
				if !ok {
					t.Errorf("listed unknown session %s", s.ID)
					continue
				}
				if s.Status != want.Status || s.Name != want.Name || s.Type != want.Type || s.RetrievalID != want.RetrievalID {
					t.Errorf("%s: got %+v, simulator has %+v", s.ID, s, want)
				}
				if (s.EndTime == nil) != want.EndTime.IsZero() {
					t.Errorf("%s: endTime %v, simulator has %v", s.ID, s.EndTime, want.EndTime)
				}
			}
			ref := got[len(got)-1] // the reference session is from 2022, the oldest
			if ref.ID != simulator.ReferenceSessionID || ref.Progress != 5 || ref.ProcessedObjects != 37 ||
				ref.DurationSeconds != 220.8336404 || !ref.CreationTime.Equal(simulator.ReferenceSession().CreationTime) {
				t.Errorf("reference session listed as %+v", ref)
			}

			code, table, errOut := runCmd(t, "sessions", "--config.file="+cfg)
			if code != 0 {
				t.Fatalf("table: exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(table), "\n")
			if len(lines) != 1+len(got) || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "STATUS") {
				t.Fatalf("table:\n%s", table)
			}
			for i, s := range got {
				if f := strings.Fields(lines[i+1]); f[0] != s.ID {
					t.Errorf("table row %d is %s, want %s", i+1, f[0], s.ID)
				}
			}
			refRow := lines[len(lines)-1]
			for _, want := range []string{"Exchange data retrieval", "Retrieve", "Success", "2022-01-28 20:52:36 +01:00", "2022-01-28 20:56:17 +01:00", "3m41s", "37"} {
				if !strings.Contains(refRow, want) {
					t.Errorf("reference row lacks %q: %s", want, refRow)
				}
			}
		})
	}
}

// TestSessionsYAMLPassesConfigCheck pastes the yaml output under a server's sessions: and
// runs --config.check on the result, as the issue asks. A session name with a newline and
// a config key in it must stay inside its comment.
func TestSessionsYAMLPassesConfigCheck(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	const evilID = "abcdef01-2345-4678-9abc-def012345678"
	if err := sim.sim.AddSession(simulator.Session{ID: evilID, Name: "evil\n    cache_ttl: 0s\r\n\u2028x", RetrievalID: simulator.ReferenceRetrievalID,
		CreationTime: time.Now().Add(-time.Minute), Type: simulator.TypeRetrieve, Status: simulator.StatusFailed, EndTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serverSpec{name: "prod", version: "v7", sim: sim})
	code, block, errOut := runCmd(t, "sessions", "--config.file="+cfg, "--output", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := append([]string{evilID}, simulator.DemoSessionIDs()...)
	for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		if !strings.HasPrefix(line, "      - ") && !strings.HasPrefix(line, "      # ") {
			t.Errorf("line is neither an item nor a comment at the sessions: indent: %q", line)
		}
	}
	if !strings.Contains(block, `# Exchange data retrieval (Retrieve, Success`) {
		t.Errorf("items are not commented with their names:\n%s", block)
	}

	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(base, []byte("    sessions:\n")) {
		t.Fatalf("writeConfig changed its layout:\n%s", base)
	}
	pasted := filepath.Join(dir, "pasted.yml")
	if err := os.WriteFile(pasted, append(base, block...), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "--config.check", "--config.file="+pasted)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("SUCCESS: 1 server(s), %d session(s)", len(want))) {
		t.Fatalf("--config.check: exit %d\n%s%s\nconfig:\n%s%s", code, out, errOut, base, block)
	}
	loaded, err := config.Load(pasted)
	if err != nil {
		t.Fatal(err)
	}
	srv := loaded.Servers[0]
	var gotIDs []string
	for _, id := range srv.Sessions {
		gotIDs = append(gotIDs, string(id))
	}
	slices.Sort(gotIDs)
	slices.Sort(want)
	if !slices.Equal(gotIDs, want) {
		t.Errorf("pasted sessions %v, want %v", srv.Sessions, want)
	}
	if srv.Sessions[0] != evilID {
		t.Errorf("pasted list is not newest first: %v", srv.Sessions)
	}
	if srv.CacheTTLDuration() != time.Duration(config.DefaultCacheTTL) {
		t.Error("a session name injected a key into the pasted config")
	}
}

func TestSessionsFilters(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: "v8", sim: sim})

	got := listJSON(t, "--config.file="+cfg, "--status", "failed, Warning")
	if want := []string{simulator.DemoWarningID, simulator.DemoFailedID}; !slices.Equal(ids(got), want) {
		t.Errorf("--status Failed,Warning listed %v, want %v", ids(got), want)
	}
	// Demo sessions were created 2, 5, 10, 20, 30, 60 and 90 minutes, 2 and 3 hours and
	// years ago; 100m sits well between 90m and 2h.
	got = listJSON(t, "--config.file="+cfg, "--since", "100m")
	if len(got) != 7 || slices.Contains(ids(got), simulator.DemoFailedID) || !slices.Contains(ids(got), simulator.DemoWarningID) {
		t.Errorf("--since 100m listed %v", ids(got))
	}
	got = listJSON(t, "--config.file="+cfg, "--since", "1d", "--status", "Running")
	if len(got) != 3 {
		t.Errorf("--since 1d --status Running listed %v", ids(got))
	}
	got = listJSON(t, "--config.file="+cfg, "--limit", "2")
	if want := []string{simulator.DemoRunningWarningID, simulator.DemoRunningFailedID}; !slices.Equal(ids(got), want) {
		t.Errorf("--limit 2 listed %v, want the two newest %v", ids(got), want)
	}
	got = listJSON(t, "--config.file="+cfg, "--retrieval-id", simulator.DemoTeamsRetrievalID)
	for _, s := range got {
		if s.RetrievalID != simulator.DemoTeamsRetrievalID {
			t.Errorf("--retrieval-id listed %s of retrieval %s", s.ID, s.RetrievalID)
		}
	}
	if len(got) != 3 {
		t.Errorf("--retrieval-id listed %v, want the 3 Teams sessions", ids(got))
	}
	code, out, _ := runCmd(t, "sessions", "--config.file="+cfg, "--status", "Stopped", "--since", "1h")
	if code != 0 || strings.TrimSpace(out) != "No data retrieval sessions match." {
		t.Errorf("empty result: exit %d, %q", code, out)
	}
	code, out, _ = runCmd(t, "sessions", "--config.file="+cfg, "--status", "Stopped", "--since", "1h", "-o", "yaml")
	if code != 0 || !strings.Contains(out, "0 data retrieval session(s)") || strings.Contains(out, "- ") {
		t.Errorf("empty yaml: exit %d, %q", code, out)
	}
}

// TestSessionsPaging lists exactly two pages of 1,000 sessions: v6 knows from totalCount that
// it is done, v8 (no totalCount) must read an empty third page. It also checks that --since
// stops reading once the list reaches older sessions.
func TestSessionsPaging(t *testing.T) {
	for version, wantPages := range map[string]int64{"v6": 2, "v8": 3} {
		t.Run(version, func(t *testing.T) {
			sim := startSim(t, simulator.Options{})
			old := time.Now().Add(-48 * time.Hour)
			n := 2000 - len(simulator.DemoSessionIDs())
			for i := range n {
				id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
				if err := sim.sim.AddSession(simulator.Session{ID: id, Name: "s", RetrievalID: simulator.ReferenceRetrievalID,
					CreationTime: old.Add(-time.Duration(i) * time.Second), EndTime: old, Type: simulator.TypeRetrieve, Status: simulator.StatusSuccess}); err != nil {
					t.Fatal(err)
				}
			}
			sim.sim.LoadDemoData()
			cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: version, sim: sim})
			sim.sim.ResetStats()
			got := listJSON(t, "--config.file="+cfg)
			if len(got) != n+len(simulator.DemoSessionIDs()) {
				t.Fatalf("listed %d sessions, want %d", len(got), n+len(simulator.DemoSessionIDs()))
			}
			seen := map[string]bool{}
			for _, s := range got {
				if seen[s.ID] {
					t.Fatalf("%s listed twice", s.ID)
				}
				seen[s.ID] = true
			}
			if pages := sim.sim.Stats().ByEndpoint["list"]; pages != wantPages {
				t.Errorf("%d list requests for %d sessions in pages of 1000, want %d", pages, len(got), wantPages)
			}
			sim.sim.ResetStats()
			got = listJSON(t, "--config.file="+cfg, "--since", "24h")
			if len(got) != len(simulator.DemoSessionIDs())-1 {
				t.Errorf("--since 24h listed %d sessions", len(got))
			}
			// The API promises no order, so older sessions on the first page do not mean
			// that later pages hold none in range: every page is read.
			if pages := sim.sim.Stats().ByEndpoint["list"]; pages != wantPages {
				t.Errorf("--since read %d pages, want all %d", pages, wantPages)
			}
		})
	}
}

// Every failure is one line naming the cause, exit 1, nothing on stdout and no secret.
func TestSessionsErrors(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	dir := t.TempDir()
	good := writeConfig(t, filepath.Join(mkdir(t, dir, "good")), serverSpec{name: "prod", version: "v8", sim: sim})
	badPassword := writeConfig(t, mkdir(t, dir, "badpw"), serverSpec{name: "prod", version: "v7", sim: sim, password: "not-" + simPassword})
	noCA := writeConfig(t, mkdir(t, dir, "noca"), serverSpec{name: "prod", url: sim.url})
	down := writeConfig(t, mkdir(t, dir, "down"), serverSpec{name: "prod", url: "http://" + freeAddr(t)})
	two := writeConfig(t, mkdir(t, dir, "two"), serverSpec{name: "prod", sim: sim}, serverSpec{name: "backup", sim: sim})
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad password", []string{"--config.file=" + badPassword}, 1, `server "prod" (` + sim.url + `, v7): authentication failed for user 'EXAMPLE\monitoring' (check username and password): token: HTTP 400 Bad Request: Invalid username or password.`},
		{"untrusted certificate", []string{"--config.file=" + noCA}, 1, "TLS: the server's certificate is not trusted (set tls_config.ca_file"},
		{"unreachable", []string{"--config.file=" + down}, 1, "cannot list sessions: token: connection failed: dial tcp"},
		{"several servers", []string{"--config.file=" + two}, 1, "the config has 2 servers; pick one with --server (servers: prod, backup)"},
		{"unknown server", []string{"--config.file=" + two, "--server", "nope"}, 1, `--server "nope" is not in the config (servers: prod, backup)`},
		{"missing config", []string{"--config.file=" + filepath.Join(dir, "missing.yml")}, 1, `no config file "` + filepath.Join(dir, "missing.yml") + `" (--config.file, default "config.yml"): pass --config.file=PATH`},
		{"unknown status", []string{"--config.file=" + good, "--status", "Done"}, 2, `--status: unknown status "Done"`},
		{"bad since", []string{"--config.file=" + good, "--since", "yesterday"}, 2, `--since: "yesterday" is not a positive duration`},
		{"bad output", []string{"--config.file=" + good, "--output", "xml"}, 2, "xml"},
		{"bad limit", []string{"--config.file=" + good, "--limit", "10001"}, 2, "--limit: must be 0 to 10000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, append([]string{"sessions"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr is not one line containing %q:\n%s", tc.want, errOut)
			}
			if strings.Contains(errOut, simPassword) {
				t.Error("the password is in the error")
			}
		})
	}
	// --server picks among several.
	if got := listJSON(t, "--config.file="+two, "--server=backup"); len(got) != len(simulator.DemoSessionIDs()) {
		t.Errorf("--server backup listed %d sessions", len(got))
	}
}

// Without --config.file, in a directory without config.yml (issue 20 point 6), the one
// line says which flag is needed and what its default is.
func TestSessionsWithoutConfigFile(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{"sessions"}, {"sessions", "log", "668f478c-0326-440a-8bdf-58cf39163ea2"}} {
		code, out, errOut := runCmd(t, args...)
		want := `no config file "config.yml" (--config.file, default "config.yml"): pass --config.file=PATH naming the exporter's config`
		if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and one line containing %q", args, code, out, errOut, want)
		}
	}
}

func mkdir(t *testing.T, parent, name string) string {
	t.Helper()
	d := filepath.Join(parent, name)
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// `sessions log` through the whole program: the demo's reason on stdout, exit 0; an unknown
// session is the server's 404 on one line of stderr, exit 1; a bad ID or type is a usage
// error, exit 2, before any request.
func TestSessionsLogCommand(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	dir := t.TempDir()
	two := writeConfig(t, dir, serverSpec{name: "prod", version: "v8", sim: sim}, serverSpec{name: "backup", version: "v6", sim: sim})

	code, out, errOut := runCmd(t, "sessions", "log", "--config.file="+two, "--server=backup", "--type=Error", simulator.DemoFailedID)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasSuffix(lines[2], simulator.DemoFailedReason) {
		t.Fatalf("exit %d, stderr %q, table:\n%s", code, errOut, out)
	}
	sim.sim.ResetStats()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown session", []string{"--server=prod", "0f0f0f0f-0000-4000-8000-000000000001"}, 1,
			`vb365_exporter sessions log: server "prod" (` + sim.url + `, v8): cannot read the log of session 0f0f0f0f-0000-4000-8000-000000000001: logitems: HTTP 404 Not Found`},
		{"several servers", []string{simulator.DemoFailedID}, 1, "the config has 2 servers; pick one with --server (servers: prod, backup)"},
		{"not a UUID", []string{"--server=prod", "../Jobs"}, 2, `session ID "../Jobs" is not a UUID`},
		{"unknown type", []string{"--server=prod", "--type=Info", simulator.DemoFailedID}, 2, `--type: unknown log item type "Info"`},
		{"no session ID", []string{"--server=prod"}, 2, "SESSION_ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, append([]string{"sessions", "log", "--config.file=" + two}, tc.args...)...)
			if code != tc.code || out != "" {
				t.Errorf("exit %d (want %d), stdout %q", code, tc.code, out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, simPassword) {
				t.Errorf("stderr is not one line containing %q:\n%s", tc.want, errOut)
			}
		})
	}
	if n := sim.sim.Stats().ByEndpoint[simulator.EndpointLogItems]; n != 1 {
		t.Errorf("%d LogItems requests, want 1 (the unknown session's): usage errors must not reach the server", n)
	}
}
