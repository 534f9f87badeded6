//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// `jobs` and `jobs log` through the whole program: the demo's Failed job first with its
// reason, its session's log, one line of stderr and exit 1 for an unknown job, and usage
// errors (exit 2) before any request.
func TestJobsCommand(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: "v8", sim: sim}, serverSpec{name: "backup", version: "v6", sim: sim})

	code, out, errOut := runCmd(t, "jobs", "--config.file="+cfg, "--server=backup")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) < 3 || !strings.HasPrefix(lines[1], simulator.DemoJobFailedID) ||
		!strings.Contains(lines[1], "Error: Failed to connect to Exchange Online") || strings.Contains(out, simPassword) {
		t.Fatalf("exit %d, stderr %q, table:\n%s", code, errOut, out)
	}
	code, out, errOut = runCmd(t, "jobs", "log", "--config.file="+cfg, "--server=prod", "-o", "table", "--type=Error", simulator.DemoJobFailedID)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || !strings.HasSuffix(lines[len(lines)-1], simulator.DemoJobFailedReason) {
		t.Fatalf("jobs log: exit %d, stderr %q, table:\n%s", code, errOut, out)
	}
	sim.sim.ResetStats()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"jobs", "log", "--server=prod", "../Jobs"}, 2, `job ID "../Jobs" is not a UUID`},
		{[]string{"jobs", "-o", "yaml", "--server=prod"}, 2, "yaml"},
		{[]string{"jobs", "log", "--server=prod", "--type=Info", simulator.DemoJobFailedID}, 2, `--type: unknown log item type "Info"`},
		// Checked last: the only one that asks the server.
		{[]string{"jobs", "log", "--server=prod", "0f0f0f0f-0000-4000-8000-000000000001"}, 1,
			`vb365_exporter jobs log: server "prod" has no job 0f0f0f0f-0000-4000-8000-000000000001`},
	} {
		if tc.code == 1 && sim.sim.Stats().Total != 0 {
			t.Error("a usage error reached the server")
		}
		code, out, errOut := runCmd(t, append(tc.args, "--config.file="+cfg)...)
		if code != tc.code || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d (want %d), stdout %q, stderr %q (want %q)", tc.args, code, tc.code, out, errOut, tc.want)
		}
	}
}
