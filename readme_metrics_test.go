package main

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// readmeMetrics is what the README's "## Metrics" section documents: each metric with its
// label names, and for the labels whose values the exporter defines, those values.
type readmeMetrics struct {
	labels map[string][]string            // metric → label names, sorted
	values map[string]map[string][]string // label → metric → values, sorted
}

var backticked = regexp.MustCompile("`([^`]*)`")

func parseReadmeMetrics(t *testing.T, readme string) readmeMetrics {
	t.Helper()
	start := strings.Index(readme, "\n## Metrics\n")
	if start < 0 {
		t.Fatal("README has no ## Metrics section")
	}
	section := readme[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	doc := readmeMetrics{labels: map[string][]string{}, values: map[string]map[string][]string{}}
	var header []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case header == nil:
			header = cells
			continue
		case strings.HasPrefix(cells[0], "---"):
			continue
		}
		switch strings.Join(header[:2], "|") {
		case "metric|labels":
			var labels []string
			for _, l := range strings.Split(cells[1], ",") {
				if l = strings.TrimSpace(l); l != "" {
					labels = append(labels, l)
				}
			}
			sort.Strings(labels)
			for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
				if _, dup := doc.labels[m[1]]; dup {
					t.Errorf("README documents %s twice", m[1])
				}
				doc.labels[m[1]] = labels
			}
		case "label|of":
			label := strings.Trim(cells[0], "`")
			var values []string
			for _, v := range backticked.FindAllStringSubmatch(cells[2], -1) {
				values = append(values, v[1])
			}
			sort.Strings(values)
			if doc.values[label] == nil {
				doc.values[label] = map[string][]string{}
			}
			for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
				doc.values[label][m[1]] = values
			}
		default:
			t.Fatalf("unknown table in ## Metrics, header %q", header)
		}
	}
	if len(doc.labels) == 0 || len(doc.values) == 0 {
		t.Fatalf("no metric or label-value table found in ## Metrics")
	}
	return doc
}

// TestReadmeMetricTable keeps the README's metric tables and the exporter in step: it
// scrapes a real exporter against the simulator, set up so that every family appears (demo
// sessions in every status, discovery on, a token renewal, a refused password, a request
// without an answer), and compares what is served with what the README documents.
func TestReadmeMetricTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := parseReadmeMetrics(t, string(readme))

	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	if err := sim.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, SessionID: simulator.DemoStoppedID,
		Kind: simulator.FaultReset, Count: 1}); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, t.TempDir(),
		serverSpec{name: "prod", version: "v8", sim: sim, sessions: simulator.DemoSessionIDs()},
		serverSpec{name: "found", version: "v7", sim: sim, extra: "    discovery: {}\n"},
		serverSpec{name: "refused", sim: sim, password: "wrong", sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg)
	scrape(t, exp.url+"/metrics", nil)
	// A revoked access token in the second scrape: the exporter renews with the refresh token.
	if err := sim.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, SessionID: simulator.DemoRunningSuccessID,
		Kind: simulator.FaultUnauthorized, Count: 1}); err != nil {
		t.Fatal(err)
	}
	r := scrape(t, exp.url+"/metrics", nil)
	// The organizations' users are counted in the background, which the first scrape started
	// for prod and found: scraped until both counts are served.
	for range 400 {
		if r.count("vb365_organization_users_last_read_timestamp_seconds", nil) == 2 {
			break
		}
		time.Sleep(25 * time.Millisecond)
		r = scrape(t, exp.url+"/metrics", nil)
	}

	served := map[string][]string{}            // metric → label names
	values := map[string]map[string][]string{} // label → metric → values
	for name, fam := range r.fams {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_") {
			continue // documented as a group: the client library's own
		}
		names := map[string]bool{}
		for _, m := range fam.GetMetric() {
			for _, lp := range m.GetLabel() {
				names[lp.GetName()] = true
				if docm, ok := doc.values[lp.GetName()]; ok {
					if _, ok := docm[name]; ok {
						if values[lp.GetName()] == nil {
							values[lp.GetName()] = map[string][]string{}
						}
						if !slices.Contains(values[lp.GetName()][name], lp.GetValue()) {
							values[lp.GetName()][name] = append(values[lp.GetName()][name], lp.GetValue())
						}
					}
				}
			}
		}
		var list []string
		for n := range names {
			list = append(list, n)
		}
		sort.Strings(list)
		served[name] = list
	}

	for name, labels := range served {
		want, ok := doc.labels[name]
		switch {
		case !ok:
			t.Errorf("%s is served with labels %v but not in the README's metric table", name, labels)
		case !slices.Equal(want, labels):
			t.Errorf("%s: README lists labels %v, served %v", name, want, labels)
		}
	}
	for name := range doc.labels {
		if _, ok := served[name]; !ok {
			t.Errorf("%s is in the README's metric table but not served", name)
		}
	}
	for label, byMetric := range doc.values {
		for name, want := range byMetric {
			got := values[label][name]
			sort.Strings(got)
			if !slices.Equal(want, got) {
				t.Errorf("%s{%s}: README lists %v, served %v", name, label, want, got)
			}
		}
	}
}
