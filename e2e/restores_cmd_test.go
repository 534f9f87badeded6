//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// `restores` through the whole program: who restored what on the demo, newest first, in a
// table and as JSON; one line of stderr and exit 1 when the server fails the list, and usage
// errors (exit 2) before any request.
func TestRestoresCommand(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: "v8", sim: sim}, serverSpec{name: "backup", version: "v6", sim: sim})

	code, out, errOut := runCmd(t, "restores", "--config.file="+cfg, "--server=backup")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "STARTED") ||
		!strings.Contains(lines[1], "northwind.onmicrosoft.com") || !strings.Contains(lines[1], "Running") ||
		!strings.Contains(lines[2], `CONTOSO\backup-admin`) || !strings.Contains(lines[2], "Failed") || !strings.Contains(lines[2], "Legal hold review") ||
		strings.Contains(out, simPassword) {
		t.Fatalf("exit %d, stderr %q, table:\n%s", code, errOut, out)
	}
	code, out, errOut = runCmd(t, "restores", "--config.file="+cfg, "--server=prod", "--since=7d", "-o", "json")
	var rs []struct{ ID, Organization, Type, InitiatedBy, Result string }
	if err := json.Unmarshal([]byte(out), &rs); code != 0 || err != nil || len(rs) != 5 ||
		rs[1].ID != simulator.DemoRestoreFailedID || rs[1].Type != "SharePoint" || rs[4].ID != simulator.DemoRestoreOldID {
		t.Fatalf("-o json --since 7d: exit %d, err %v, stderr %q:\n%s", code, err, errOut, out)
	}

	sim.sim.ResetStats()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"restores", "--server=prod", "--since=yesterday"}, 2, `--since: "yesterday" is not a positive duration`},
		{[]string{"restores", "-o", "yaml", "--server=prod"}, 2, "yaml"},
		{[]string{"restores", "--server=prod", "--limit=-1"}, 2, "--limit: must be 0 to 10000"},
		// Checked last: the only one that asks the server.
		{[]string{"restores", "--server=prod"}, 1, `vb365_exporter restores: server "prod" (`},
	} {
		if tc.code == 1 {
			if sim.sim.Stats().Total != 0 {
				t.Error("a usage error reached the server")
			}
			if err := sim.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRestoreSessions, Kind: simulator.FaultStatus, Status: 500}); err != nil {
				t.Fatal(err)
			}
		}
		code, out, errOut := runCmd(t, append(tc.args, "--config.file="+cfg)...)
		if code != tc.code || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d (want %d), stdout %q, stderr %q (want %q)", tc.args, code, tc.code, out, errOut, tc.want)
		}
	}
}
