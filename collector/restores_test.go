package collector

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const restoresPassword = "Rst0re-Pa55w0rd"

// The demo's restores as served: history in the recent gauge and no count; the running one
// with its operator, the only family with initiated_by; counted once when it ends. A
// hostile restore's password and format characters reach no label. Clean for promtool.
func TestRestoreFamilies(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sim := simulator.New(simulator.Options{Username: "u", Password: restoresPassword, Now: clock})
	sim.LoadDemoData()
	if err := sim.AddRestoreSession(simulator.RestoreSession{ID: "4e57ffff-0000-4000-8000-000000000001", Organization: "evil\u200b" + restoresPassword,
		Type: simulator.RestoreExchange, CreationTime: now.Add(-time.Minute), InitiatedBy: "CORP\\" + strings.ToUpper(restoresPassword) + "\u202e",
		Reason: restoresPassword}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	noCache := config.Duration(0)
	var logs bytes.Buffer
	tgt, err := server.New(&config.ServerConfig{Name: "prod", URL: srv.URL, APIVersion: "v8", Username: "u", Password: restoresPassword, CacheTTL: &noCache,
		Collect: []string{config.CollectRestores}, RestoreWindow: config.Duration(time.Hour)}, server.Options{Logger: log.NewLogfmtLogger(log.NewSyncWriter(&logs)), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	scrape := func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := New(ctx, []Source{tgt}, nil)
		c.now = clock
		fams, err := c.Gather()
		if err != nil {
			t.Fatal(err)
		}
		return encodeText(t, fams)
	}
	first := scrape()
	for _, want := range []string{
		"# TYPE vb365_restore_sessions_total counter\n",
		`vb365_restore_sessions_total{organization="contoso.onmicrosoft.com",result="Failed",server="prod",type="SharePoint"} 0`,
		`vb365_restore_sessions_total{organization="northwind.onmicrosoft.com",result="Success",server="prod",type="Teams"} 0`,
		`vb365_restore_sessions_recent{organization="contoso.onmicrosoft.com",result="Failed",server="prod",type="SharePoint"} 1`,
		`vb365_restore_sessions_recent{organization="contoso.onmicrosoft.com",result="Success",server="prod",type="Exchange"} 1`,
		`vb365_restore_sessions_recent{organization="fabrikam.onmicrosoft.com",result="Warning",server="prod",type="OneDrive"} 1`,
		`vb365_restore_sessions_recent{organization="contoso.onmicrosoft.com",result="Failed",server="prod",type="Exchange"} 0`,
		`vb365_restore_sessions_running{initiated_by="NORTHWIND\\it.operator",organization="northwind.onmicrosoft.com",server="prod",type="Teams"} 1`,
		`vb365_restore_sessions_running{initiated_by="CORP\\<secret>",organization="evil<secret>",server="prod",type="Exchange"} 1`,
		`vb365_restore_sessions_dropped{server="prod"} 0`,
		`vb365_collector_success{collector="restores",server="prod"} 1`,
	} {
		if !strings.Contains(first, want) {
			t.Errorf("first scrape lacks %s", want)
		}
	}
	if regexp.MustCompile(`vb365_restore_sessions_total\{.*\} [1-9]`).MatchString(first) {
		t.Errorf("history counted:\n%s", first)
	}
	for _, line := range strings.Split(first, "\n") {
		if strings.Contains(line, "initiated_by=") && !strings.HasPrefix(line, "vb365_restore_sessions_running{") {
			t.Errorf("initiated_by outside the running gauge: %s", line)
		}
		if strings.Contains(strings.ToLower(line), strings.ToLower(restoresPassword)) || strings.ContainsAny(line, "\u200b\u202e") {
			t.Errorf("password or format character: %q", line)
		}
	}
	if out, err := promtoolCheck(first); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	// The demo's running restore ends six minutes after loading: counted once.
	mu.Lock()
	now = now.Add(7 * time.Minute)
	mu.Unlock()
	for range 2 {
		got := scrape()
		if want := `vb365_restore_sessions_total{organization="northwind.onmicrosoft.com",result="Success",server="prod",type="Teams"} 1`; !strings.Contains(got, want) {
			t.Errorf("after the end: no %s in\n%s", want, got)
		}
		if strings.Contains(got, `initiated_by="NORTHWIND`) {
			t.Error("an ended restore is still running")
		}
	}
	if n, err := testutil.GatherAndCount(New(context.Background(), []Source{tgt}, nil), "vb365_restore_sessions_running"); err != nil || n != 1 {
		t.Errorf("%d running series: %v", n, err)
	}
	if n := strings.Count(logs.String(), `msg="restore session ended"`); n != 4 {
		t.Errorf("%d audit lines, want the window's three and the end:\n%s", n, logs.String())
	}
}

// promtoolCheck lints text with promtool when it is installed (TestGoldenPassesPromtool says
// how to install it, and fails in CI without it).
func promtoolCheck(text string) (string, error) {
	promtool, _ := exec.LookPath("promtool")
	if promtool == "" {
		return "", nil
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err == nil && len(out) > 0 {
		err = errExit
	}
	return string(out), err
}

var errExit = errorString("promtool reported problems")

type errorString string

func (e errorString) Error() string { return string(e) }
