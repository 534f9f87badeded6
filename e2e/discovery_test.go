//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

const newRunID = "0e2e0000-0000-4000-8000-0000000d15c0"

// TestPipelineDiscovery is the pipeline with session discovery on and no session IDs in
// the exporter's config, scraped the multi-target way (/sd lists the server, /probe serves
// it): a session that did not exist when everything started must still page when it fails,
// and an old finished session must not be exported at all.
func TestPipelineDiscovery(t *testing.T) {
	e := startSimulator(t)
	ctx, dir, amBin, hook, passwordFile, caFile, simURL := e.ctx, e.dir, e.amBin, e.hook, e.passwordFile, e.caFile, e.simURL
	// Only the 2022 reference session exists at start-up; it is older than max_age.
	adminJSON(t, ctx, http.MethodPost, simURL+"/admin/sessions", map[string]any{
		"id": referenceID, "name": sessionNames[referenceID], "retrievalId": "8a76872b-7f2c-4c50-95f4-92c4d41bc47c",
		"creationTime": "2022-01-28T20:52:36.9177053+01:00", "endTime": "2022-01-28T20:56:17.7513457+01:00",
		"progress": 5, "processedObjects": 37, "type": "Retrieve", "status": "Success",
	})

	exporterConfig := writeFile(t, dir, "exporter.yml", fmt.Sprintf(`servers:
  - name: %s
    url: %s
    api_version: v6
    username: '%s'
    password_file: %s
    tls_config:
      ca_file: %s
    timeout: 5s
    discovery: {}
`, serverName, simURL, username, passwordFile, caFile))
	exporterAddr := e.startExporter(t, exporterConfig)

	amAddr := startAlertmanager(t, ctx, dir, amBin, hook.URL)

	// The scrape job of examples/prometheus/prometheus-sd.yml, at a one-second pace.
	promURL := e.startPrometheus(t, amAddr, fmt.Sprintf(`  - job_name: vb365
    metrics_path: /probe
    honor_labels: true
    http_sd_configs:
      - url: http://%s/sd
        refresh_interval: 1s
    relabel_configs:
      - source_labels: [__param_server]
        target_label: instance
`, exporterAddr))

	waitFor(t, ctx, "the probe target up with discovery reporting no session", func() (bool, string) {
		v, err := promQuery(ctx, promURL, `vb365_discovery_sessions{server="`+serverName+`",instance="`+serverName+`"} == 0 and on() vb365_up{server="`+serverName+`"} == 1`)
		return err == nil && len(v) == 1, fmt.Sprint(v, err)
	})

	// A new run starts after everything is up, with no config change anywhere.
	adminJSON(t, ctx, http.MethodPost, simURL+"/admin/sessions", map[string]any{
		"id": newRunID, "name": sessionNames[failedID], "retrievalId": "0e2e0000-0000-4000-8000-0000000000aa",
		"creationTime": time.Now().Add(-2 * time.Minute).Format(time.RFC3339Nano), "type": "Retrieve", "status": "Running",
		"progress": 3, "processedObjects": 20,
	})
	waitFor(t, ctx, "Prometheus to see the new session running", func() (bool, string) {
		v, err := promQuery(ctx, promURL, `vb365_data_retrieval_session_status{session_id="`+newRunID+`",status="Running"} == 1`)
		return err == nil && len(v) == 1, fmt.Sprint(v, err)
	})
	if got := hook.alerts(); len(got) != 0 {
		t.Fatalf("alerts while the only recent session was running: %+v", got)
	}

	adminJSON(t, ctx, http.MethodPatch, simURL+"/admin/sessions/"+newRunID, map[string]any{
		"status": "Failed", "endTime": time.Now().Format(time.RFC3339Nano), "progress": 9, "processedObjects": 40,
	})
	var paged amAlert
	waitFor(t, ctx, "the Failed alert for the discovered session at the webhook", func() (bool, string) {
		for _, a := range hook.alerts() {
			if a.Status == "firing" && a.Labels["alertname"] == "VB365DataRetrievalSessionFailed" && a.Labels["session_id"] == newRunID {
				paged = a
				return true, ""
			}
		}
		return false, fmt.Sprint(hook.alerts())
	})
	if paged.Labels["server"] != serverName || paged.Labels["name"] != sessionNames[failedID] || paged.Labels["severity"] != "critical" {
		t.Errorf("alert labels %v, want server=%s, name=%q, severity=critical", paged.Labels, serverName, sessionNames[failedID])
	}
	for _, a := range hook.alerts() {
		if a.Labels["session_id"] != newRunID {
			t.Errorf("unexpected alert: %+v", a)
		}
	}
	// The 2022 session is beyond max_age: never exported, so nothing can page on it.
	v, err := promQuery(ctx, promURL, `count_over_time(vb365_data_retrieval_session_scrape_success{session_id="`+referenceID+`"}[10m])`)
	if err != nil || len(v) != 0 {
		t.Errorf("the aged-out reference session was exported: %v %v", v, err)
	}
}
