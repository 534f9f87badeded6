package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vb365-exporter/vb365_exporter/bench/floor"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// The installation scenario of issue 17: 200 jobs of 120 sessions each (every 7th job
// running), v8, 5 ms latency. A warm scrape must not re-read job histories.
const (
	installJobs     = 200
	installSessions = 120
	installLatency  = 5 * time.Millisecond
)

func installID(kind, i, j int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012d", kind, i*1000+j)
}

// loadInstallation fills s with the scenario's jobs. Sessions are hourly; the newest of
// every 7th job runs; of the others, one in twenty ended Failed and one in twenty Warning,
// with a log saying why.
func loadInstallation(s *simulator.Simulator, jobs int, now time.Time) error {
	repo, proxy := installID(0xe0, 0, 1), installID(0xe1, 0, 1)
	if err := s.AddRepository(simulator.Repository{ID: repo, Name: "Repository 1", CapacityBytes: 8 << 40, FreeSpaceBytes: 1 << 40}); err != nil {
		return err
	}
	if err := s.AddProxy(simulator.Proxy{ID: proxy, HostName: "proxy1.contoso.example", CPUPercent: 23, MemoryPercent: 61}); err != nil {
		return err
	}
	if err := s.SetLicense(simulator.License{Type: simulator.LicenseSubscription, LicensedTo: "Contoso", Expires: now.Add(90 * 24 * time.Hour),
		TotalUsers: 5000, UsedUsers: 4700}); err != nil {
		return err
	}
	for j := range jobs {
		job := simulator.Job{ID: installID(0xb0, j, 0), Name: fmt.Sprintf("Organization %d: Exchange and OneDrive", j), RepositoryID: repo}
		if err := s.AddJob(job); err != nil {
			return err
		}
		for k := range installSessions {
			created := now.Add(-time.Duration(installSessions-k) * time.Hour)
			js := simulator.JobSession{ID: installID(0x5e, j, k), JobID: job.ID, CreationTime: created, EndTime: created.Add(17 * time.Minute),
				Status: simulator.StatusSuccess, Progress: 100, ProcessedObjects: 1200, TransferredBytes: 3 << 30}
			if k == installSessions-1 {
				switch {
				case j%7 == 0:
					js.Status, js.EndTime, js.Progress = simulator.StatusRunning, time.Time{}, 40
				case j%20 == 3, j%20 == 13:
					js.Status = simulator.StatusFailed
					if j%20 == 13 {
						js.Status = simulator.StatusWarning
					}
					js.Log = []simulator.LogItem{
						{Type: simulator.LogRunning, Message: "Job started", CreationTime: created},
						{Type: simulator.LogWarning, Message: "Mailbox user42@contoso.example: item too large, skipped", CreationTime: created.Add(time.Minute)},
						{Type: simulator.LogError, Message: "Mailbox user7@contoso.example: access denied", CreationTime: created.Add(2 * time.Minute)},
					}
				}
			}
			if err := s.AddJobSession(js); err != nil {
				return err
			}
		}
	}
	return nil
}

// runInstallation measures the scenario: the cold scrape, then warm scrapes once the
// histories and the logs are read, against the floor of the same run: the sum of the warm
// requests' latency plus the library floor for as many series.
func runInstallation(o options, w io.Writer, t *table) error {
	jobs := installJobs / o.scale
	s := simulator.New(simulator.Options{Username: benchUser, Password: benchPassword})
	if err := loadInstallation(s, jobs, time.Now()); err != nil {
		return err
	}
	return withV8Exporter(o, s, installLatency, func(sm *sim, e *exporter) error { return measureInstallation(o, w, t, s, sm, e, jobs) })
}

// withV8Exporter serves s with latency and runs fn against an exporter of it at v8 with the
// kinds' defaults (no sessions, max_concurrent_requests 8), removing both after.
func withV8Exporter(o options, s *simulator.Simulator, latency time.Duration, fn func(*sim, *exporter) error) error {
	dir, err := os.MkdirTemp("", "vb365-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sm, err := serveSim(dir, s, latency)
	if err != nil {
		return err
	}
	defer sm.close()
	e, err := startExporterVersion(o.exporter, dir, sm, "v8", nil, 8, "10m")
	if err != nil {
		return err
	}
	defer e.stop()
	return fn(sm, e)
}

func measureInstallation(o options, w io.Writer, t *table, s *simulator.Simulator, sm *sim, e *exporter, jobs int) error {
	cold := s.Stats().Total
	var err error
	if _, err = e.body(); err != nil {
		return err
	}
	cold = s.Stats().Total - cold
	// Warm once a scrape lists no job's sessions and reads no log.
	var body []byte
	warmups := 1
	for ; ; warmups++ {
		before := s.Stats().ByEndpoint
		if body, err = e.body(); err != nil {
			return err
		}
		after := s.Stats().ByEndpoint
		if after[simulator.EndpointJobSessions] == before[simulator.EndpointJobSessions] &&
			after[simulator.EndpointJobSessionLogItems] == before[simulator.EndpointJobSessionLogItems] {
			break
		}
		if warmups > 10 {
			return fmt.Errorf("installation: still listing sessions or reading logs after %d scrapes", warmups)
		}
	}
	m, err := measure(e, sm, o.scrapes, 0)
	if err != nil {
		return fmt.Errorf("installation: %w\n%s", err, e.logs.String())
	}
	series := 0
	for line := range bytes.Lines(body) {
		if bytes.HasPrefix(line, []byte("vb365_")) {
			series++
		}
	}
	var one bytes.Buffer
	if err := floor.Scrape(&one, "bench", floor.Sessions(1, time.Now(), nil), time.Now()); err != nil {
		return err
	}
	perSession := bytes.Count(one.Bytes(), []byte("\nvb365_")) + 1
	lib, err := libFloor(max(1, series/perSession), max(o.scrapes, 10))
	if err != nil {
		return err
	}
	name := fmt.Sprintf("installation, %d jobs × %d sessions", jobs, installSessions)
	fmt.Fprintf(w, "%-40s cold scrape %d API requests; warm median %8s  p95 %8s  API requests/scrape %6.1f (%s)  CPU/scrape %6.3fs  peak RSS %6.1f MiB  warm-up %d scrapes  %d series\n",
		name, cold, round(percentile(m.walls, 50)), round(percentile(m.walls, 95)), medianInt(m.requests), endpoints(m, len(m.walls)),
		m.cpuPerScrape, mib(m.peakRSS), warmups+1, series)
	warm := medianInt(m.requests)
	t.row(name+": cold scrape, API requests", fmt.Sprint(cold), "", 0, "<= 250", cold <= int64(250/o.scale+10)) // the kinds' lists and the token do not scale
	t.row(name+": warm scrape, API requests", fmt.Sprintf("%.0f (%s)", warm, endpoints(m, len(m.walls))), "", 0, "<= 60", warm <= 60)
	libWall := time.Duration(lib.WallMedian * float64(time.Second))
	floorWall := time.Duration(warm*float64(installLatency)) + libWall
	wall := percentile(m.walls, 50)
	t.row(name+": warm median scrape", dur(wall), fmt.Sprintf("%.0f requests × %s + library floor %s (%d series)", warm, installLatency, round(libWall), series),
		ratio(wall, floorWall), "<= 1.2", ratio(wall, floorWall) <= 1.2)
	t.row(name+": exporter peak RSS", fmt.Sprintf("%.1f MiB", mib(m.peakRSS)), "", 0, "<= 150 MiB", mib(m.peakRSS) <= 150)
	return nil
}

// body is one scrape's text.
func (e *exporter) body() ([]byte, error) {
	resp, err := e.client.Get(e.url + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
