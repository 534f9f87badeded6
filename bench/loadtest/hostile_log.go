package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/vb365-exporter/vb365_exporter/bench/floor"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// hostileLogSessions are the Failed sessions whose logs the hostile server floods: as many
// as issue 19 point 1 measured, all read at once (max_concurrent_requests 16).
const hostileLogSessions = 8

// runHostileLog measures issue 19 point 1 against the real binary: the logs of 8 Failed
// sessions are (a) one LogItems page of 150,000 tiny items, (b) full pages of 7,000-byte
// messages that never end. Each case runs on a fresh exporter, whose peak RSS over three
// scrapes (the first reads the eight logs at once, to their cut) must stay within 300 MiB.
func runHostileLog(o options, w io.Writer, t *table) error {
	dir, err := os.MkdirTemp("", "vb365-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s := simulator.New(simulator.Options{Username: benchUser, Password: benchPassword})
	now := time.Now()
	ids := make([]string, hostileLogSessions)
	for i := range ids {
		ids[i] = floor.SessionID(i)
		if err := s.AddSession(simulator.Session{ID: ids[i], Name: fmt.Sprint("hostile log ", i), RetrievalID: floor.SessionID(1000),
			CreationTime: now.Add(-time.Hour), EndTime: now.Add(-time.Minute), Type: simulator.TypeRetrieve, Status: simulator.StatusFailed}); err != nil {
			return err
		}
	}
	sm, err := serveSim(dir, s, 0)
	if err != nil {
		return err
	}
	defer sm.close()
	for _, c := range []struct {
		name  string
		fault simulator.Fault
	}{
		{"hostile log: 8 × one page of 150,000 items", simulator.Fault{Endpoint: simulator.EndpointLogItems, Kind: simulator.FaultLogFlood}},
		{"hostile log: 8 × endless 7,000-byte pages", simulator.Fault{Endpoint: simulator.EndpointLogItems, Kind: simulator.FaultLogEndless}},
	} {
		s.ClearFaults()
		if err := s.SetFault(c.fault); err != nil {
			return err
		}
		e, err := startExporterVersion(o.exporter, dir, sm, "v8", ids, 16, "10m")
		if err != nil {
			return err
		}
		start, before := time.Now(), s.Stats().ByEndpoint[simulator.EndpointLogItems]
		var body []byte
		for range 3 {
			if body, err = e.metrics(); err != nil {
				e.stop()
				return fmt.Errorf("%s: %w", c.name, err)
			}
		}
		wall := time.Since(start)
		rss, errRSS := peakRSS(e.cmd.Process.Pid)
		cpu, errCPU := cpuSeconds(e.cmd.Process.Pid)
		e.stop()
		if err := errors.Join(errRSS, errCPU); err != nil {
			return err
		}
		// Series lines only: the reason family's help names "(log cut)" too.
		cut := 0
		for line := range strings.Lines(string(body)) {
			if !strings.HasPrefix(line, "#") && strings.Contains(line, "(log cut)") {
				cut++
			}
		}
		fmt.Fprintf(w, "%-40s 3 scrapes %8s  LogItems requests %d  logs cut %d/%d  CPU %6.3fs  peak RSS %6.1f MiB\n",
			c.name, round(wall), s.Stats().ByEndpoint[simulator.EndpointLogItems]-before, cut, len(ids), cpu, mib(rss))
		t.row(c.name+": exporter peak RSS", fmt.Sprintf("%.1f MiB", mib(rss)), fmt.Sprintf("%d of %d logs cut", cut, len(ids)), 0, "<= 300 MiB",
			mib(rss) <= 300 && cut == len(ids))
	}
	return nil
}

// metrics is one scrape's text, with Prometheus's scrape timeout header.
func (e *exporter) metrics() ([]byte, error) {
	req, _ := http.NewRequest(http.MethodGet, e.url+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "60")
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	return io.ReadAll(resp.Body)
}
