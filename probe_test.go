package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/internal/testenv"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// fixedSim is a simulator whose answers do not depend on the clock: the reference session
// and its retrieval with a fixed expiration.
func fixedSim(t *testing.T) *simServer {
	t.Helper()
	sim := startSim(t, simulator.Options{})
	testenv.AddFixedData(t, sim.sim)
	return sim
}

func get(t *testing.T, url string, header map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

const probeWant = `# HELP vb365_collector_duration_seconds Time the collector spent in this scrape.
# TYPE vb365_collector_duration_seconds gauge
vb365_collector_duration_seconds{collector="data_retrievals",server="SERVER"} DURATION
vb365_collector_duration_seconds{collector="logs",server="SERVER"} DURATION
# HELP vb365_collector_success 1 when the collector (a kind the exporter reads, or the session logs) succeeded in this scrape, else 0. A failed collector never takes vb365_up down; the landing page and the log say why.
# TYPE vb365_collector_success gauge
vb365_collector_success{collector="data_retrievals",server="SERVER"} 1
vb365_collector_success{collector="logs",server="SERVER"} 1
# HELP vb365_data_retrieval_expiration_timestamp_seconds When the retrieved data stops being available (expirationTime), in Unix seconds; absent when it has no expiration.
# TYPE vb365_data_retrieval_expiration_timestamp_seconds gauge
vb365_data_retrieval_expiration_timestamp_seconds{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="SERVER"} 1.644007956e+09
# HELP vb365_data_retrieval_info Data retrieval job metadata: name, type (Exchange, OneDrive, SharePoint, Teams) and data state (Retrieving, Retrieved, ChangingAvailabilityPeriod, Removing). Always 1. Join on retrieval_id with vb365_data_retrieval_session_info.
# TYPE vb365_data_retrieval_info gauge
vb365_data_retrieval_info{data_state="Retrieved",name="Exchange retrieval",retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="SERVER",type="Exchange"} 1
# HELP vb365_data_retrieval_last_status Status of the data retrieval job's latest session as a state set: 1 for the current status (Stopped, Running, Success, Failed, Warning, NotConfigured), 0 for the others.
# TYPE vb365_data_retrieval_last_status gauge
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="SERVER",status="Failed"} 0
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="SERVER",status="NotConfigured"} 0
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="SERVER",status="Running"} 0
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="SERVER",status="Stopped"} 0
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="SERVER",status="Success"} 1
vb365_data_retrieval_last_status{retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="SERVER",status="Warning"} 0
# HELP vb365_data_retrieval_session_creation_timestamp_seconds When the data retrieval session was created (creationTime), in Unix seconds.
# TYPE vb365_data_retrieval_session_creation_timestamp_seconds gauge
vb365_data_retrieval_session_creation_timestamp_seconds{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 1.6433995569177053e+09
# HELP vb365_data_retrieval_session_duration_seconds Duration of the data retrieval session: endTime - creationTime, or now - creationTime while it has not ended.
# TYPE vb365_data_retrieval_session_duration_seconds gauge
vb365_data_retrieval_session_duration_seconds{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 220.8336404
# HELP vb365_data_retrieval_session_end_timestamp_seconds When the data retrieval session ended (endTime), in Unix seconds; absent while it has not ended.
# TYPE vb365_data_retrieval_session_end_timestamp_seconds gauge
vb365_data_retrieval_session_end_timestamp_seconds{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 1.6433997777513456e+09
# HELP vb365_data_retrieval_session_info Data retrieval session metadata: name, ID of the retrieval job (retrievalId) and session type (Retrieve, RetrievalChangeAvailabilityPeriodDays, RetrievalRemoving). Always 1.
# TYPE vb365_data_retrieval_session_info gauge
vb365_data_retrieval_session_info{name="Exchange data retrieval",retrieval_id="8a76872b-7f2c-4c50-95f4-92c4d41bc47c",server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",type="Retrieve"} 1
# HELP vb365_data_retrieval_session_processed_objects Number of items processed by the retrieval job (processedObjects): a count.
# TYPE vb365_data_retrieval_session_processed_objects gauge
vb365_data_retrieval_session_processed_objects{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 37
# HELP vb365_data_retrieval_session_progress The session's progress exactly as VB365 reports it (progress). Veeam's API reference documents it as the number of objects processed during the session: a count, not a percentage.
# TYPE vb365_data_retrieval_session_progress gauge
vb365_data_retrieval_session_progress{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 5
# HELP vb365_data_retrieval_session_scrape_success 1 when the data retrieval session's data was read, else 0 (not found, error, timeout). A finished session (terminal status and an end time) is served from the exporter's cache for cache_ttl before it is read again; a running one is read every scrape.
# TYPE vb365_data_retrieval_session_scrape_success gauge
vb365_data_retrieval_session_scrape_success{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2"} 1
# HELP vb365_data_retrieval_session_status Status of the data retrieval session as a state set: 1 for the current status (Stopped, Running, Success, Failed, Warning, NotConfigured), 0 for the others.
# TYPE vb365_data_retrieval_session_status gauge
vb365_data_retrieval_session_status{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Failed"} 0
vb365_data_retrieval_session_status{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="NotConfigured"} 0
vb365_data_retrieval_session_status{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Running"} 0
vb365_data_retrieval_session_status{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Stopped"} 0
vb365_data_retrieval_session_status{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Success"} 1
vb365_data_retrieval_session_status{server="SERVER",session_id="668f478c-0326-440a-8bdf-58cf39163ea2",status="Warning"} 0
# HELP vb365_data_retrievals_dropped Data retrievals the server listed in this scrape beyond max_retrievals; they are not exported. Absent when the data retrievals could not be read or there are none.
# TYPE vb365_data_retrievals_dropped gauge
vb365_data_retrievals_dropped{server="SERVER"} 0
# HELP vb365_scrape_duration_seconds Time this scrape spent reading the VB365 server.
# TYPE vb365_scrape_duration_seconds gauge
vb365_scrape_duration_seconds{server="SERVER"} DURATION
# HELP vb365_up 1 when the exporter authenticated and the VB365 REST API answered during this scrape, else 0.
# TYPE vb365_up gauge
vb365_up{server="SERVER"} 1
`

var durationLine = regexp.MustCompile(`(?m)^(vb365_(?:scrape|collector)_duration_seconds\{[^}]*\}) \S+$`)

// dataRetrievalsOnly keeps a server to the sessions and data retrievals that probeWant lists.
const dataRetrievalsOnly = "    collect: [data_retrievals]\n"

// TestProbeAnswersExactlyOneServer checks that /probe?server=NAME serves that server's
// metrics, all of them and nothing else: no other server, no exporter self-metrics.
func TestProbeAnswersExactlyOneServer(t *testing.T) {
	prod, dr := fixedSim(t), fixedSim(t)
	cfg := writeConfig(t, t.TempDir(),
		serverSpec{name: "prod", sim: prod, sessions: []string{simulator.ReferenceSessionID}, extra: dataRetrievalsOnly},
		serverSpec{name: "dr", version: "v8", sim: dr, sessions: []string{simulator.ReferenceSessionID}, extra: dataRetrievalsOnly})
	exp := startExporter(t, cfg)
	for _, server := range []string{"prod", "dr"} {
		code, body, hdr := get(t, exp.url+"/probe?server="+server, nil)
		if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
			t.Fatalf("/probe?server=%s: %d %s\n%s", server, code, hdr.Get("Content-Type"), body)
		}
		got := durationLine.ReplaceAllString(body, "$1 DURATION")
		if want := strings.ReplaceAll(probeWant, "SERVER", server); got != want {
			t.Errorf("/probe?server=%s answered:\n%s\nwant:\n%s", server, got, want)
		}
	}
	// /metrics still serves every server.
	r := scrape(t, exp.url+"/metrics", nil)
	for _, server := range []string{"prod", "dr"} {
		if r.mustValue(t, "vb365_up", l("server", server)) != 1 {
			t.Errorf("/metrics: %s not up", server)
		}
	}
}

func TestProbeRejectsBadServerParameter(t *testing.T) {
	sim := fixedSim(t)
	exp := startExporter(t, writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim}))
	const missing = "the server parameter is required once: /probe?server=NAME, NAME being a server name of the config file\n"
	for _, c := range []struct{ query, want string }{
		{"", missing},
		{"?server=", missing},
		{"?target=prod", missing},
		{"?server=prod&server=prod", missing},
		{"?server=staging", "server \"staging\" is not configured\n"},
		{"?server=%22%0Avb365_up%201", "server \"\\\"\\nvb365_up 1\" is not configured\n"},
	} {
		code, body, _ := get(t, exp.url+"/probe"+c.query, nil)
		if code != http.StatusBadRequest || body != c.want {
			t.Errorf("/probe%s: %d %q, want 400 %q", c.query, code, body, c.want)
		}
	}
	if n := sim.sim.Stats().Total; n != 0 {
		t.Errorf("a rejected probe made %d API requests, want 0", n)
	}
}

// TestProbeFollowsScrapeTimeout: /probe takes its deadline from Prometheus' header, as
// /metrics does, so a stalled server costs one target its scrape, not the exporter.
func TestProbeFollowsScrapeTimeout(t *testing.T) {
	sim := fixedSim(t)
	exp := startExporter(t, writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim,
		sessions: []string{simulator.ReferenceSessionID}}), "--scrape.timeout-offset=0s")
	if err := sim.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointAny, Kind: simulator.FaultStall}); err != nil {
		t.Fatal(err)
	}
	defer sim.sim.ClearFaults()
	r := scrape(t, exp.url+"/probe?server=prod", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "0.5"})
	if r.status != http.StatusOK || r.mustValue(t, "vb365_up", l("server", "prod")) != 0 {
		t.Fatalf("stalled server: status %d\n%s", r.status, r.body)
	}
	if r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", simulator.ReferenceSessionID)) != 0 {
		t.Error("a stalled session is reported as read")
	}
}

// TestTelemetryPathMayTakeProbePath: a telemetry path equal to /probe or /sd must not crash
// the exporter (ServeMux panics on duplicate patterns); the metrics keep that path.
func TestTelemetryPathMayTakeProbePath(t *testing.T) {
	sim := fixedSim(t)
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}})
	for _, path := range []string{"/probe", "/sd"} {
		exp := startExporter(t, cfg, "--web.telemetry-path="+path)
		r := scrape(t, exp.url+path, nil)
		if r.status != http.StatusOK || r.mustValue(t, "vb365_up", l("server", "prod")) != 1 {
			t.Errorf("--web.telemetry-path=%s: %d\n%s", path, r.status, r.body)
		}
		if _, ok := r.fams["go_goroutines"]; !ok {
			t.Errorf("--web.telemetry-path=%s does not serve /metrics' self-metrics", path)
		}
		if !strings.Contains(exp.logs.String(), "endpoint not served") {
			t.Errorf("no warning about the shadowed %s endpoint", path)
		}
		exp.stop()
	}
}
