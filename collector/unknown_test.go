package collector

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// A server that sends a fresh 1 MiB status (and type) on every read: each distinct value
// costs one short log line, up to the bound, then one line says no more are logged; the
// remembered set stays within the bound and the series' labels are cut.
func TestUnknownStatusesBounded(t *testing.T) {
	unknownStatuses = &unknownValues{}
	t.Cleanup(func() { unknownStatuses = &unknownValues{} })

	now := time.Now()
	sim := simulator.New(simulator.Options{Username: "u", Password: "p"})
	const sessions = 12
	for i := range sessions {
		if err := sim.AddSession(simulator.Session{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: "s",
			RetrievalID: simulator.ReferenceRetrievalID, CreationTime: now.Add(-time.Minute), EndTime: now,
			Type: simulator.TypeRetrieve, Status: simulator.StatusSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultLongEnum, Bytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	noCache := config.Duration(0)
	tgt, err := server.New(&config.ServerConfig{Name: "prod", URL: srv.URL, APIVersion: "v8", Username: "u", Password: "p", CacheTTL: &noCache,
		Discovery: &config.DiscoveryConfig{MaxAge: config.Duration(time.Hour)}}, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := log.NewLogfmtLogger(log.NewSyncWriter(&logs))
	const scrapes = 10 // 120 distinct statuses, more than the bound
	for range scrapes {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		c := New(ctx, []Source{tgt}, logger)
		fams, err := c.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			for _, m := range f.Metric {
				for _, l := range m.Label {
					if len(l.GetValue()) > vb365.MaxNameBytes {
						t.Fatalf("%s has a %d-byte %s label", f.GetName(), len(l.GetValue()), l.GetName())
					}
				}
			}
		}
		cancel()
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if n := strings.Count(logs.String(), "unknown data retrieval session status"); n != maxUnknownValues {
		t.Errorf("%d unknown-status lines, want %d (one per distinct value up to the bound)", n, maxUnknownValues)
	}
	if n := strings.Count(logs.String(), "further ones are not logged"); n != 1 {
		t.Errorf("%d lines saying further values are not logged, want 1", n)
	}
	if len(lines) != maxUnknownValues+1 {
		t.Errorf("%d log lines, want %d", len(lines), maxUnknownValues+1)
	}
	for _, l := range lines {
		if len(l) > 512 {
			t.Fatalf("a %d-byte log line: %.200s…", len(l), l)
		}
	}
	if n := unknownStatuses.len(); n > maxUnknownValues {
		t.Errorf("%d unknown values remembered, want at most %d", n, maxUnknownValues)
	}
}

// A job, license or proxy status outside its state set is logged once, whatever the scrapes.
func TestUnknownInstallationStatusLoggedOnce(t *testing.T) {
	unknownStatuses = &unknownValues{}
	t.Cleanup(func() { unknownStatuses = &unknownValues{} })
	var logs bytes.Buffer
	logger := log.NewLogfmtLogger(&logs)
	snap := &server.Snapshot{Server: "prod", Up: true,
		Jobs:    []server.JobResult{{Job: vb365.Job{ID: "j1"}, LastFinished: &vb365.JobSession{ID: "s1", Status: "Paused"}}},
		License: &vb365.License{Status: "Valid"}, Proxies: []vb365.Proxy{{ID: "p1", Status: "Online"}, {ID: "p2", Status: "Rebooting"}}}
	for range 3 {
		Build([]*server.Snapshot{snap}, time.Now(), logger)
	}
	if n := strings.Count(logs.String(), "unknown status"); n != 2 || !strings.Contains(logs.String(), "status=Paused") || !strings.Contains(logs.String(), "status=Rebooting") {
		t.Errorf("%d lines, want one for Paused and one for Rebooting:\n%s", n, logs.String())
	}
}
