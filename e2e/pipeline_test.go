//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/dashboards"
	"github.com/vb365-exporter/vb365_exporter/dashboards/metriccheck"
	"github.com/vb365-exporter/vb365_exporter/internal/testenv"
)

const (
	serverName = "e2e"
	username   = `E2E\monitoring`
	password   = "e2e-secret-password"

	failedID  = "0e2e0000-0000-4000-8000-00000000f001"
	warningID = "0e2e0000-0000-4000-8000-00000000a002"
	successID = "0e2e0000-0000-4000-8000-00000000c003"
	// The reference session from Veeam's documentation: ended Success in 2022.
	referenceID = "668f478c-0326-440a-8bdf-58cf39163ea2"
)

var sessionNames = map[string]string{
	failedID:    "E2E Exchange retrieval",
	warningID:   "E2E SharePoint retrieval",
	successID:   "E2E OneDrive retrieval",
	referenceID: "Exchange data retrieval",
}

// The whole run must stay well under the 3 minutes.
const budget = 150 * time.Second

func TestPipeline(t *testing.T) {
	e := startSimulator(t)
	ctx, dir, amBin, hook, passwordFile, caFile, simURL := e.ctx, e.dir, e.amBin, e.hook, e.passwordFile, e.caFile, e.simURL
	created := time.Now().Add(-10 * time.Minute)
	for _, id := range []string{failedID, warningID, successID} {
		adminJSON(t, ctx, http.MethodPost, simURL+"/admin/sessions", map[string]any{
			"id": id, "name": sessionNames[id], "retrievalId": "0e2e0000-0000-4000-8000-0000000000aa",
			"creationTime": created.Format(time.RFC3339Nano), "type": "Retrieve", "status": "Running",
			"progress": 3, "processedObjects": 20,
		})
	}
	adminJSON(t, ctx, http.MethodPost, simURL+"/admin/sessions", map[string]any{
		"id": referenceID, "name": sessionNames[referenceID], "retrievalId": "8a76872b-7f2c-4c50-95f4-92c4d41bc47c",
		"creationTime": "2022-01-28T20:52:36.9177053+01:00", "endTime": "2022-01-28T20:56:17.7513457+01:00",
		"progress": 5, "processedObjects": 37, "type": "Retrieve", "status": "Success",
	})

	// Exporter.
	exporterConfig := writeFile(t, dir, "exporter.yml", fmt.Sprintf(`servers:
  - name: %s
    url: %s
    api_version: v6
    username: '%s'
    password_file: %s
    tls_config:
      ca_file: %s
    timeout: 5s
    sessions:
      - %s
      - %s
      - %s
      - %s
`, serverName, simURL, username, passwordFile, caFile, failedID, warningID, successID, referenceID))
	exporterAddr := e.startExporter(t, exporterConfig)

	amAddr := startAlertmanager(t, ctx, dir, amBin, hook.URL)

	// Prometheus with the shipped rules, scraping and evaluating every second.
	promURL := e.startPrometheus(t, amAddr, fmt.Sprintf(`  - job_name: vb365
    static_configs:
      - targets: ['%s']
`, exporterAddr))

	// Every session is read and every rule evaluated a few times while the
	// three sessions run: nothing may page yet.
	waitFor(t, ctx, "Prometheus to see all four sessions readable", func() (bool, string) {
		v, err := promQuery(ctx, promURL, `sum(vb365_data_retrieval_session_scrape_success{server="`+serverName+`"}) == 4 and on() vb365_up{server="`+serverName+`"} == 1`)
		return err == nil && len(v) == 1, fmt.Sprint(v, err)
	})
	waitFor(t, ctx, "the rules to be evaluated", func() (bool, string) {
		v, err := promQuery(ctx, promURL, `count_over_time(vb365:data_retrieval_session_alert_window:seconds[1m]) >= 3`)
		return err == nil && len(v) == 1, fmt.Sprint(v, err)
	})
	if got := hook.alerts(); len(got) != 0 {
		t.Fatalf("alerts while every session was running or long finished: %+v", got)
	}

	// Running -> Failed, Warning and Success.
	ended := time.Now().Format(time.RFC3339Nano)
	for id, status := range map[string]string{failedID: "Failed", warningID: "Warning", successID: "Success"} {
		adminJSON(t, ctx, http.MethodPatch, simURL+"/admin/sessions/"+id, map[string]any{
			"status": status, "endTime": ended, "progress": 9, "processedObjects": 40,
		})
	}
	want := map[string]string{
		"VB365DataRetrievalSessionFailed":  failedID,
		"VB365DataRetrievalSessionWarning": warningID,
	}
	severity := map[string]string{
		"VB365DataRetrievalSessionFailed":  "critical",
		"VB365DataRetrievalSessionWarning": "warning",
	}
	waitFor(t, ctx, "the Failed and Warning alerts at the webhook", func() (bool, string) {
		seen := map[string]bool{}
		for _, a := range hook.alerts() {
			if a.Status == "firing" && want[a.Labels["alertname"]] == a.Labels["session_id"] {
				seen[a.Labels["alertname"]] = true
			}
		}
		return len(seen) == len(want), fmt.Sprint(hook.alerts())
	})

	// The Success session needs the same path (scrape, evaluation, delivery);
	// give it a few more rounds to show up before declaring it quiet.
	waitFor(t, ctx, "a few more rule evaluations", func() (bool, string) {
		v, err := promQuery(ctx, promURL, `count_over_time(vb365_data_retrieval_session_end_timestamp_seconds{session_id="`+successID+`"}[1m]) >= 5`)
		return err == nil && len(v) == 1, fmt.Sprint(v, err)
	})
	time.Sleep(3 * time.Second)

	for _, a := range hook.alerts() {
		id := a.Labels["session_id"]
		switch {
		case a.Labels["alertname"] == "" || want[a.Labels["alertname"]] != id:
			t.Errorf("unexpected alert at the webhook: %+v", a)
		case a.Labels["server"] != serverName || a.Labels["name"] != sessionNames[id] || a.Labels["severity"] != severity[a.Labels["alertname"]]:
			t.Errorf("alert %s: labels %v, want server=%s, name=%q and severity=%s", a.Labels["alertname"], a.Labels, serverName, sessionNames[id], severity[a.Labels["alertname"]])
		case !strings.Contains(a.Annotations["description"], sessionNames[id]) || !strings.Contains(a.Annotations["description"], "ago"):
			t.Errorf("alert %s: description %q does not name the session and when it ended", a.Labels["alertname"], a.Annotations["description"])
		// These sessions' logs are empty: the fallback text, for a log that was read.
		case !strings.Contains(a.Annotations["description"], "No reason known: its log has no Error or Warning item"):
			t.Errorf("alert %s: description %q lacks the fallback for a log without a reason", a.Labels["alertname"], a.Annotations["description"])
		}
		if a.Status != "firing" {
			t.Errorf("alert resolved within the 24h window: %+v", a)
		}
	}
}

// checkDashboardQueries runs every panel query of every dashboard the way Grafana would, with
// $server set to the pipeline's server, and demands data from each. Only the demo data
// (TestPipelineReasonAndExpiry) has something for every panel: reasons and expirations.
func checkDashboardQueries(t *testing.T, ctx context.Context, promURL string) {
	var qs []dashboards.Query
	for _, name := range dashboards.Names() {
		d, err := dashboards.LoadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Queries()) == 0 {
			t.Fatalf("dashboard %s has no queries", name)
		}
		qs = append(qs, d.Queries()...)
	}
	vars := map[string]string{"server": serverName}
	for _, q := range qs {
		expr := metriccheck.Expand(q.Expr, vars)
		var n int
		var err error
		if q.Instant {
			var v []sample
			v, err = promQuery(ctx, promURL, expr)
			n = len(v)
		} else {
			n, err = promQueryRange(ctx, promURL, expr, time.Now().Add(-30*time.Second), time.Now(), time.Second)
		}
		if err != nil || n == 0 {
			t.Errorf("panel %q query %s returned no data (err %v):\n%s", q.Panel, q.RefID, err, expr)
		}
	}
	t.Logf("all %d dashboard queries returned data", len(qs))
}

// --- webhook receiver ---

type amAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type webhook struct {
	*httptest.Server
	mu       sync.Mutex
	received []amAlert
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []amAlert `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.received = append(w.received, msg.Alerts...)
		w.mu.Unlock()
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhook) alerts() []amAlert {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]amAlert(nil), w.received...)
}

// --- Prometheus HTTP API ---

type sample struct {
	Metric map[string]string `json:"metric"`
}

func promAPI(ctx context.Context, u string, params url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(params.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s: %s", resp.Status, env.Error)
	}
	return json.Unmarshal(env.Data, out)
}

func promQuery(ctx context.Context, promURL, expr string) ([]sample, error) {
	var data struct {
		ResultType string   `json:"resultType"`
		Result     []sample `json:"result"`
	}
	if err := promAPI(ctx, promURL+"/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	return data.Result, nil
}

func promQueryRange(ctx context.Context, promURL, expr string, start, end time.Time, step time.Duration) (int, error) {
	var data struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	err := promAPI(ctx, promURL+"/api/v1/query_range", url.Values{
		"query": {expr},
		"start": {fmt.Sprint(start.Unix())},
		"end":   {fmt.Sprint(end.Unix())},
		"step":  {step.String()},
	}, &data)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range data.Result {
		n += len(r.Values)
	}
	return n, nil
}

// --- processes and helpers ---

func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Dir(filepath.Dir(file))
}

func lookPath(t *testing.T, names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("none of %v in PATH: apt-get install prometheus prometheus-alertmanager", names)
	return ""
}

func goBuild(t *testing.T, root, dir, name, pkg string) string {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func freeAddr(t *testing.T) string { return testenv.FreeAddr(t) }

func writeFile(t *testing.T, dir, name, content string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// procs are the processes a test started, so that waits can notice one
// dying instead of timing out blind.
type procs struct {
	mu   sync.Mutex
	list []*proc
}

type proc struct {
	name, log string
	done      chan struct{}
	state     *os.ProcessState
}

var running procs

// startProcess runs bin in its own process group and registers a cleanup
// that stops the whole group, also when the test fails or times out, and
// prints the end of the process's log when the test failed.
func startProcess(t *testing.T, dir, name, bin string, args ...string) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	running.mu.Lock()
	running.list = append(running.list, p)
	running.mu.Unlock()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		logFile.Close()
		if t.Failed() {
			t.Logf("--- last lines of the %s log ---\n%s", name, tail(logPath, 40))
		}
	})
}

// exited names a started process that is no longer running.
func exited() string {
	running.mu.Lock()
	defer running.mu.Unlock()
	for _, p := range running.list {
		select {
		case <-p.done:
			return fmt.Sprintf("%s exited early (%v):\n%s", p.name, p.state, tail(p.log, 40))
		default:
		}
	}
	return ""
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	start := time.Now()
	last := ""
	for {
		ok, state := cond()
		if ok {
			t.Logf("%s: after %s", what, time.Since(start).Round(100*time.Millisecond))
			return
		}
		last = state
		if msg := exited(); msg != "" {
			t.Fatalf("waiting for %s: %s", what, msg)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; last state: %s", what, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// simClient trusts the simulator's self-signed CA (and still reaches the
// plain-HTTP processes).
var simClient = http.DefaultClient

func tlsClient(t *testing.T, caFile string) *http.Client {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func waitHTTP(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	waitFor(t, ctx, u, func() (bool, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := simClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

func adminJSON(t *testing.T, ctx context.Context, method, u string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := simClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %s %s", method, u, resp.Status, msg)
	}
}

// startAlertmanager runs Alertmanager with one webhook receiver; every alert is its own
// group and goes out at once. It returns the listen address.
func startAlertmanager(t *testing.T, ctx context.Context, dir, amBin, hookURL string) string {
	t.Helper()
	amAddr := freeAddr(t)
	amConfig := writeFile(t, dir, "alertmanager.yml", fmt.Sprintf(`route:
  receiver: webhook
  group_by: ['...']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: %s
        send_resolved: true
`, hookURL))
	startProcess(t, dir, "alertmanager", amBin,
		"--config.file="+amConfig, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	waitHTTP(t, ctx, "http://"+amAddr+"/-/ready")
	return amAddr
}

// pipeline is what every pipeline test starts with: the binaries, a webhook, and a
// simulator over HTTPS with its own CA, still without sessions unless the test loads them.
type pipeline struct {
	ctx                          context.Context
	root, dir                    string
	promBin, amBin, exporterBin  string
	hook                         *webhook
	passwordFile, caFile, simURL string
}

// newPipeline finds Prometheus and Alertmanager, builds the exporter and starts the
// webhook: everything but the simulator.
func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	running.list = nil
	simClient = http.DefaultClient
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	t.Cleanup(cancel)
	root := repoRoot(t)
	dir := t.TempDir()
	return &pipeline{ctx: ctx, root: root, dir: dir,
		promBin:      lookPath(t, "prometheus"),
		amBin:        lookPath(t, "prometheus-alertmanager", "alertmanager"),
		exporterBin:  exporterBinary, // built once by TestMain
		hook:         newWebhook(t),
		passwordFile: writeFile(t, dir, "password", password),
		caFile:       filepath.Join(dir, "simulator-ca.pem"),
	}
}

// startSimulator runs the simulator binary with its admin API, without sessions.
func startSimulator(t *testing.T) *pipeline {
	t.Helper()
	e := newPipeline(t)
	simBin := goBuild(t, e.root, e.dir, "vb365-simulator", "./cmd/vb365-simulator")
	simAddr := freeAddr(t)
	startProcess(t, e.dir, "simulator", simBin,
		"--listen-address="+simAddr, "--tls", "--tls.ca-out="+e.caFile, "--admin",
		"--username="+username, "--password-file="+e.passwordFile)
	e.simURL = "https://" + simAddr
	waitFor(t, e.ctx, "the simulator's CA file", func() (bool, string) {
		b, err := os.ReadFile(e.caFile)
		return err == nil && bytes.Contains(b, []byte("END CERTIFICATE")), fmt.Sprint(err)
	})
	simClient = tlsClient(t, e.caFile)
	waitHTTP(t, e.ctx, e.simURL+"/admin/stats")
	return e
}

// startExporter runs the exporter binary with config and returns its address once ready.
func (e *pipeline) startExporter(t *testing.T, config string) string {
	t.Helper()
	addr := freeAddr(t)
	startProcess(t, e.dir, "exporter", e.exporterBin, "--config.file="+config, "--web.listen-address="+addr)
	waitHTTP(t, e.ctx, "http://"+addr+"/-/ready")
	return addr
}

// startPrometheus runs Prometheus with the shipped rules, scraping and evaluating every
// second and alerting to amAddr, with the given scrape_configs entries; it returns its URL.
func (e *pipeline) startPrometheus(t *testing.T, amAddr, scrapeConfigs string) string {
	t.Helper()
	addr := freeAddr(t)
	config := writeFile(t, e.dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['%s']
scrape_configs:
%s`, filepath.Join(e.root, "alerts", "vb365_exporter.rules.yml"), amAddr, scrapeConfigs))
	startProcess(t, e.dir, "prometheus", e.promBin,
		"--config.file="+config, "--storage.tsdb.path="+filepath.Join(e.dir, "prom-data"),
		"--web.listen-address="+addr, "--rules.alert.resend-delay=1s")
	url := "http://" + addr
	waitHTTP(t, e.ctx, url+"/-/ready")
	return url
}
