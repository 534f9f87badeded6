//go:build e2e

package e2e

import (
	"crypto/tls"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const expiringID = "0e2e0000-0000-4000-8000-00000000e4b1"

// TestPipelineReasonAndExpiry is the pipeline over the simulator's demo data, run in this
// process so that the test can add a data retrieval through the simulator's Go API: the
// demo's Failed and Warning sessions page with the reason read from their logs, a retrieval
// whose data expires within the rules' 24h window pages by name, and every dashboard query
// (the session table's reason and the expiry table included) returns data. The demo
// installation's Failed and Warning jobs page too, by name and with their reasons, the
// demo's Failed restore pages with its organization and type, and every query of the
// installation dashboard (organizations and restores included) returns data.
func TestPipelineReasonAndExpiry(t *testing.T) {
	e := newPipeline(t)
	sim := simulator.New(simulator.Options{Username: username, Password: password})
	sim.LoadDemoData()
	if err := sim.AddDataRetrieval(simulator.DataRetrieval{
		ID: expiringID, Name: "E2E expiring retrieval", Type: simulator.RetrievalTypeExchange,
		DataState: simulator.DataStateRetrieved, LastStatus: simulator.StatusSuccess,
		StorageType: "AzureArchive", Policy: "StandardPriority",
		PointInTime: time.Now().Add(-72 * time.Hour), StartTime: time.Now().Add(-6 * 24 * time.Hour),
		ExpirationTime: time.Now().Add(2 * time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	e.simURL = serveTLS(t, e.caFile, sim)

	sessions := ""
	for _, id := range simulator.DemoSessionIDs() {
		sessions += "      - " + id + "\n"
	}
	exporterAddr := e.startExporter(t, writeFile(t, e.dir, "exporter.yml", fmt.Sprintf(`servers:
  - name: %s
    url: %s
    api_version: v8
    username: '%s'
    password_file: %s
    tls_config:
      ca_file: %s
    timeout: 5s
    sessions:
%s`, serverName, e.simURL, username, e.passwordFile, e.caFile, sessions)))
	amAddr := startAlertmanager(t, e.ctx, e.dir, e.amBin, e.hook.URL)
	promURL := e.startPrometheus(t, amAddr, fmt.Sprintf(`  - job_name: vb365
    static_configs:
      - targets: ['%s']
`, exporterAddr))

	failedReason := vb365.ReasonMessage(simulator.DemoFailedReason)
	demoName := func(id string) string {
		s, ok := sim.Session(id)
		if !ok {
			t.Fatalf("demo session %s missing", id)
		}
		return s.Name
	}
	want := []struct{ alertname, key, id, name, text string }{
		{"VB365DataRetrievalSessionFailed", "session_id", simulator.DemoFailedID, demoName(simulator.DemoFailedID),
			"Reason (last Error in its log): " + failedReason},
		{"VB365DataRetrievalSessionWarning", "session_id", simulator.DemoWarningID, demoName(simulator.DemoWarningID),
			"Reason (last Warning in its log): " + vb365.ReasonMessage(simulator.DemoWarningReason)},
		{"VB365DataRetrievalExpiringSoon", "retrieval_id", expiringID, "E2E expiring retrieval",
			`The data retrieved by data retrieval "E2E expiring retrieval" (id ` + expiringID + ", type Exchange) on VB365 server " + serverName + " expires in 1h 5"},

		// The demo installation's Failed and Warning jobs (issue 17): named, with the reason
		// from their latest finished session's log.
		{"VB365JobFailed", "job_id", simulator.DemoJobFailedID, "Contoso Exchange daily",
			"Reason (last Error in its log): " + vb365.ReasonMessage(simulator.DemoJobFailedReason)},
		{"VB365JobWarning", "job_id", simulator.DemoJobWarningID, "Fabrikam OneDrive",
			"Reason (last Warning in its log): " + vb365.ReasonMessage(simulator.DemoJobWarningReason)},
		// The demo's Failed restore (issue 21), from the server's history of the window: by
		// organization and type, never by who started it.
		{"VB365RestoreFailed", "organization", "contoso.onmicrosoft.com", "",
			`1 restore(s) of SharePoint data of organization "contoso.onmicrosoft.com" on VB365 server ` + serverName + " ended Failed"},
	}
	got := map[string]amAlert{}
	waitFor(t, e.ctx, "the Failed, Warning, ExpiringSoon, JobFailed, JobWarning and RestoreFailed alerts at the webhook", func() (bool, string) {
		for _, a := range e.hook.alerts() {
			for _, w := range want {
				if a.Status == "firing" && a.Labels["alertname"] == w.alertname && a.Labels[w.key] == w.id {
					got[w.alertname] = a
				}
			}
		}
		return len(got) == len(want), fmt.Sprint(e.hook.alerts())
	})
	for _, w := range want {
		a := got[w.alertname]
		t.Logf("webhook received %s %s=%s name=%q: %s", a.Labels["alertname"], w.key, a.Labels[w.key], a.Labels["name"], a.Annotations["description"])
		if a.Labels["server"] != serverName || a.Labels["name"] != w.name {
			t.Errorf("%s: labels %v, want server=%s, name=%q", w.alertname, a.Labels, serverName, w.name)
		}
		if !strings.Contains(a.Annotations["description"], w.text) {
			t.Errorf("%s: description %q lacks %q", w.alertname, a.Annotations["description"], w.text)
		}
		// The reason must not be part of the alert's identity (see the rules file).
		if _, ok := a.Labels["message"]; ok {
			t.Errorf("%s: the reason became a label: %v", w.alertname, a.Labels)
		}
		if _, ok := a.Labels["log_type"]; ok {
			t.Errorf("%s: the reason's item type became a label: %v", w.alertname, a.Labels)
		}
		// A job's alert is the job's: its next failed session is the same alert.
		if _, ok := a.Labels["session_id"]; ok && w.key == "job_id" {
			t.Errorf("%s: the session became a label: %v", w.alertname, a.Labels)
		}
	}
	if a := got["VB365RestoreFailed"]; a.Labels["type"] != "SharePoint" || a.Labels["result"] != "Failed" || a.Labels["initiated_by"] != "" {
		t.Errorf("VB365RestoreFailed: labels %v, want type SharePoint, result Failed and no operator", a.Labels)
	}
	if d := got["VB365JobFailed"].Annotations["description"]; !strings.Contains(d, "ended Failed at ") || got["VB365JobFailed"].Labels["severity"] != "critical" {
		t.Errorf("VB365JobFailed: %v, description %q: want critical and when the session ended", got["VB365JobFailed"].Labels, d)
	}
	if !strings.HasSuffix(got["VB365DataRetrievalSessionFailed"].Annotations["description"], failedReason) {
		t.Errorf("the Failed alert's description does not end with the whole reason %q", failedReason)
	}
	for _, a := range e.hook.alerts() {
		if a.Labels["alertname"] == "VB365DataRetrievalExpiringSoon" && a.Labels["retrieval_id"] != expiringID {
			t.Errorf("a retrieval outside the 24h window pages: %+v", a)
		}
	}

	waitFor(t, e.ctx, "a few samples for the dashboard's range queries", func() (bool, string) {
		v, err := promQuery(e.ctx, promURL, `count_over_time(vb365_up{server="`+serverName+`"}[1m]) >= 5`)
		return err == nil && len(v) == 1, fmt.Sprint(v, err)
	})
	checkDashboardQueries(t, e.ctx, promURL)
}

// serveTLS serves sim over HTTPS on loopback with a certificate of its own, written to
// caFile for the exporter to trust, and returns the URL.
func serveTLS(t *testing.T, caFile string, sim *simulator.Simulator) string {
	t.Helper()
	cert, certPEM, err := simulator.GenerateCert("localhost", "127.0.0.1", "::1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sim)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}
