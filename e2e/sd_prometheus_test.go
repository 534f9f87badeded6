//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

var prometheusExamples = []string{"examples/prometheus/prometheus-sd.yml", "examples/prometheus/prometheus-sharded.yml"}

func TestPrometheusSDExamplesPassPromtool(t *testing.T) {
	promtool := requireTool(t, "promtool", "apt-get install -y prometheus")
	for _, path := range prometheusExamples {
		cmd := exec.Command(promtool, "check", "config", path)
		cmd.Dir = repoRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool check config %s: %v\n%s", path, err, out)
		}
	}
}

// activeTarget is the part of Prometheus' /api/v1/targets answer the tests look at.
type activeTarget struct {
	Labels    map[string]string `json:"labels"`
	ScrapeURL string            `json:"scrapeUrl"`
	Health    string            `json:"health"`
	LastError string            `json:"lastError"`
}

// runPrometheus starts a real Prometheus on loopback with an example config whose exporter
// addresses are replaced by the test's and whose intervals are shortened to a second.
func runPrometheus(t *testing.T, example string, addrs map[string]string) string {
	t.Helper()
	prom := requireTool(t, "prometheus", "apt-get install -y prometheus")
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), example))
	if err != nil {
		t.Fatal(err)
	}
	cfg := regexp.MustCompile(`(?m)^(\s*(?:scrape_interval|scrape_timeout|evaluation_interval|refresh_interval)): \S+`).
		ReplaceAllString(string(raw), "$1: 1s")
	for from, to := range addrs {
		if !strings.Contains(cfg, from) {
			t.Fatalf("%s does not mention %s", example, from)
		}
		cfg = strings.ReplaceAll(cfg, from, to)
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	return "http://" + addr
}

func promGet(base, path string, v any) error {
	resp, err := http.Get(base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return err
	}
	if env.Status != "success" {
		return fmt.Errorf("%s: status %s", path, env.Status)
	}
	return json.Unmarshal(env.Data, v)
}

// waitTargets waits until job's targets number n and have all been scraped successfully.
func waitTargets(t *testing.T, base, job string, n int) []activeTarget {
	t.Helper()
	var last []activeTarget
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		var data struct {
			ActiveTargets []activeTarget `json:"activeTargets"`
		}
		if err := promGet(base, "/api/v1/targets?state=active", &data); err == nil {
			last = nil
			up := 0
			for _, tg := range data.ActiveTargets {
				if tg.Labels["job"] == job {
					last = append(last, tg)
					if tg.Health == "up" {
						up++
					}
				}
			}
			if len(last) == n && up == n {
				sort.Slice(last, func(i, j int) bool { return last[i].Labels["instance"] < last[j].Labels["instance"] })
				return last
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("job %s: want %d healthy targets, have %+v", job, n, last)
	return nil
}

// waitSeries waits until the query returns n series and returns their label sets.
func waitSeries(t *testing.T, base, query string, n int) []map[string]string {
	t.Helper()
	var got []map[string]string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		}
		got = nil
		if err := promGet(base, "/api/v1/query?query="+url.QueryEscape(query), &data); err == nil {
			for _, r := range data.Result {
				got = append(got, r.Metric)
			}
			if len(got) == n {
				sort.Slice(got, func(i, j int) bool { return got[i]["server"] < got[j]["server"] })
				return got
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: want %d series, have %v", query, n, got)
	return nil
}

// TestPrometheusScrapesThroughSD runs the shipped prometheus-sd.yml in a real Prometheus:
// every configured server must become its own healthy /probe target named after it, and
// its series must carry server once, not also as exported_server.
func TestPrometheusScrapesThroughSD(t *testing.T) {
	sim := fixedSim(t)
	exp := startExporter(t, writeConfig(t, t.TempDir(),
		serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}},
		serverSpec{name: "dr", sim: sim, sessions: []string{simulator.ReferenceSessionID}}))
	host := strings.TrimPrefix(exp.url, "http://")
	prom := runPrometheus(t, "examples/prometheus/prometheus-sd.yml", map[string]string{"vb365-exporter.example:9925": host})

	targets := waitTargets(t, prom, "vb365", 2)
	for i, server := range []string{"dr", "prod"} {
		tg := targets[i]
		if tg.Labels["instance"] != server || tg.Labels["server"] != server || tg.ScrapeURL != exp.url+"/probe?server="+server {
			t.Errorf("target %d: labels %v, url %s", i, tg.Labels, tg.ScrapeURL)
		}
	}
	waitTargets(t, prom, "vb365_exporter", 1)

	series := waitSeries(t, prom, `vb365_data_retrieval_session_status{job="vb365",status="Success"}`, 2)
	for i, server := range []string{"dr", "prod"} {
		want := map[string]string{"__name__": "vb365_data_retrieval_session_status", "job": "vb365", "instance": server,
			"server": server, "session_id": simulator.ReferenceSessionID, "status": "Success"}
		if fmt.Sprint(series[i]) != fmt.Sprint(want) {
			t.Errorf("series %d: %v, want %v", i, series[i], want)
		}
	}
	// The exporter job keeps only the exporter's own series.
	waitSeries(t, prom, `count({job="vb365_exporter",__name__=~"vb365_exporter_config_last_reload_successful"})`, 1)
	var none struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := promGet(prom, "/api/v1/query?query="+url.QueryEscape(`vb365_up{job="vb365_exporter"}`), &none); err != nil || len(none.Result) != 0 {
		t.Errorf("the vb365_exporter job kept VB365 series: %v %s", err, none.Result)
	}
}

// TestPrometheusShardsOverReplicas runs the shipped prometheus-sharded.yml against three
// exporter replicas with the same config: every server must be probed exactly once (the
// three copies of /sd collapse into one target each), through one of the replicas.
func TestPrometheusShardsOverReplicas(t *testing.T) {
	sim := fixedSim(t)
	var specs []serverSpec
	servers := []string{"tenant-a", "tenant-b", "tenant-c", "tenant-d", "tenant-e", "tenant-f"}
	for _, name := range servers {
		specs = append(specs, serverSpec{name: name, sim: sim, sessions: []string{simulator.ReferenceSessionID}})
	}
	cfg := writeConfig(t, t.TempDir(), specs...)
	addrs := map[string]string{}
	replicas := map[string]bool{}
	for i := range 3 {
		exp := startExporter(t, cfg)
		host := strings.TrimPrefix(exp.url, "http://")
		addrs[fmt.Sprintf("vb365-exporter-%d.example:9925", i)] = host
		replicas[host] = true
	}
	prom := runPrometheus(t, "examples/prometheus/prometheus-sharded.yml", addrs)

	targets := waitTargets(t, prom, "vb365", len(servers))
	used := map[string]bool{}
	for i, server := range servers {
		tg := targets[i]
		u, err := url.Parse(tg.ScrapeURL)
		if err != nil || tg.Labels["instance"] != server || u.Query().Get("server") != server || !replicas[u.Host] {
			t.Errorf("target for %s: labels %v, url %s", server, tg.Labels, tg.ScrapeURL)
			continue
		}
		used[u.Host] = true
	}
	if len(used) < 2 {
		t.Errorf("all %d servers went to %d replica(s); hashmod should spread them", len(servers), len(used))
	}
	series := waitSeries(t, prom, `vb365_up{job="vb365"} == 1`, len(servers))
	for i, server := range servers {
		if series[i]["server"] != server || series[i]["instance"] != server || series[i]["exported_server"] != "" {
			t.Errorf("vb365_up series %d: %v", i, series[i])
		}
	}
}
