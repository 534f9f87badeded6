// Command loadtest measures the real vb365_exporter binary against the simulator on loopback,
// with injected API latency and thousands of sessions, and prints every figure beside its
// floor measured in the same run: the API floor (the same GETs made by a bare Go HTTP client
// at the same concurrency) and the library floor (client_golang alone serving the same
// series). `make bench` runs it; BENCHMARKS.md explains the method.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vb365-exporter/vb365_exporter/bench/floor"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const (
	benchUser     = `BENCH\monitoring`
	benchPassword = "bench-Passw0rd"
	// clkTck is USER_HZ, the unit of /proc/<pid>/stat CPU times; 100 on every Linux port
	// Go supports.
	clkTck = 100
)

type options struct {
	exporter string
	scrapes  int
	latency  time.Duration
	scale    int
	verbose  bool
	// scenario runs only this one: "installation", "scrub", "hostile-log" or "tenants".
	scenario string
	// floor-lib child mode
	floorLib   bool
	sessions   int
	iterations int
}

func main() {
	var o options
	flag.StringVar(&o.exporter, "exporter", "", "path of the vb365_exporter binary to measure")
	flag.IntVar(&o.scrapes, "scrapes", 12, "measured scrapes per scenario (at least 10)")
	flag.DurationVar(&o.latency, "latency", 20*time.Millisecond, "latency injected into every API answer")
	flag.IntVar(&o.scale, "scale", 1, "divide every session count by this (a quick smoke run)")
	flag.BoolVar(&o.verbose, "v", false, "print every measured scrape")
	flag.StringVar(&o.scenario, "scenario", "", "run only this scenario: installation, scrub, hostile-log or tenants")
	flag.BoolVar(&o.floorLib, "floor-lib", false, "internal: run the library floor in this process and print JSON")
	flag.IntVar(&o.sessions, "sessions", 10000, "internal: sessions of the library floor")
	flag.IntVar(&o.iterations, "iterations", 10, "internal: scrapes of the library floor")
	flag.Parse()
	if o.floorLib {
		if err := runLibFloor(o.sessions, o.iterations, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		return
	}
	if o.exporter == "" || o.scrapes < 1 || o.scale < 1 {
		fmt.Fprintln(os.Stderr, "loadtest: --exporter is required; --scrapes and --scale must be positive")
		os.Exit(2)
	}
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// libResult is the library floor of one scrape, measured in a process of its own so that
// its peak RSS is its alone.
type libResult struct {
	Sessions   int     `json:"sessions"`
	CPUSeconds float64 `json:"cpu_seconds_per_scrape"`
	WallMedian float64 `json:"wall_median_seconds"`
	PeakRSS    int64   `json:"peak_rss_bytes"`
}

func runLibFloor(n, iterations int, w io.Writer) error {
	now := time.Now()
	sessions := floor.Sessions(n, now, func(i int) bool { return i%100 == 0 })
	var buf bytes.Buffer
	// One scrape first, as the exporter's first scrape is not measured either.
	if err := floor.Scrape(&buf, "bench", sessions, now); err != nil {
		return err
	}
	cpu0, err := cpuSeconds(os.Getpid())
	if err != nil {
		return err
	}
	walls := make([]time.Duration, 0, iterations)
	for range iterations {
		buf.Reset()
		start := time.Now()
		if err := floor.Scrape(&buf, "bench", sessions, now); err != nil {
			return err
		}
		walls = append(walls, time.Since(start))
	}
	cpu1, err := cpuSeconds(os.Getpid())
	if err != nil {
		return err
	}
	hwm, err := peakRSS(os.Getpid())
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(libResult{Sessions: n, CPUSeconds: (cpu1 - cpu0) / float64(iterations),
		WallMedian: percentile(walls, 50).Seconds(), PeakRSS: hwm})
}

func libFloor(n, iterations int) (libResult, error) {
	self, err := os.Executable()
	if err != nil {
		return libResult{}, err
	}
	out, err := exec.Command(self, "-floor-lib", "-sessions", strconv.Itoa(n), "-iterations", strconv.Itoa(iterations)).Output()
	if err != nil {
		return libResult{}, fmt.Errorf("library floor: %w", err)
	}
	var r libResult
	return r, json.Unmarshal(out, &r)
}

// sim is one simulated VB365 server behind HTTPS on loopback.
type sim struct {
	*simulator.Simulator
	url    string
	caFile string
	pool   *x509.CertPool
	close  func()
}

func startSim(dir string, total int, running func(int) bool, latency time.Duration) (*sim, error) {
	s := simulator.New(simulator.Options{Username: benchUser, Password: benchPassword})
	now := time.Now()
	for _, v := range floor.Sessions(total, now, running) {
		ss := simulator.Session{ID: string(v.ID), Name: v.Name, RetrievalID: string(v.RetrievalID), CreationTime: v.CreationTime,
			EndTime: v.EndTime, Progress: int32(v.Progress), ProcessedObjects: v.ProcessedObjects, Type: v.Type, Status: v.Status}
		if err := s.AddSession(ss); err != nil {
			return nil, err
		}
		if log := sessionLog(ss); log != nil {
			if err := s.SetLogItems(ss.ID, log); err != nil {
				return nil, err
			}
		}
	}
	return serveSim(dir, s, latency)
}

// serveSim serves s behind HTTPS on loopback, every answer latency late.
func serveSim(dir string, s *simulator.Simulator, latency time.Duration) (*sim, error) {
	if latency > 0 {
		if err := s.SetFault(simulator.Fault{Endpoint: simulator.EndpointAny, Kind: simulator.FaultLatency, Latency: latency}); err != nil {
			return nil, err
		}
	}
	cert, caPEM, err := simulator.GenerateCert("127.0.0.1")
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(s)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		srv.Close()
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &sim{Simulator: s, url: srv.URL, caFile: caFile, pool: pool, close: srv.Close}, nil
}

// sessionLog is the log of a session that ended Failed or Warning, shaped like a real one:
// the exporter reads such logs once for the reason of the failure.
func sessionLog(ss simulator.Session) []simulator.LogItem {
	if ss.Status != simulator.StatusFailed && ss.Status != simulator.StatusWarning {
		return nil
	}
	t := ss.CreationTime
	log := []simulator.LogItem{
		{Type: simulator.LogRunning, Message: "Data retrieval session started", CreationTime: t},
		{Type: simulator.LogWarning, Message: "Mailbox archive of user42@contoso.example was skipped: it has no archive", CreationTime: t.Add(time.Minute)},
	}
	if ss.Status == simulator.StatusFailed {
		log = append(log, simulator.LogItem{Type: simulator.LogError,
			Message: "Failed to retrieve item: the storage account returned 403 (AuthorizationFailure)", CreationTime: t.Add(2 * time.Minute)})
	}
	return append(log, simulator.LogItem{Type: simulator.LogStop, Message: "Data retrieval session finished with " + ss.Status, CreationTime: ss.EndTime})
}

// exporter is the binary under test, running against one sim.
type exporter struct {
	cmd    *exec.Cmd
	url    string
	logs   *bytes.Buffer
	client *http.Client
}

func startExporter(bin, dir string, s *sim, ids []string, mcr int, cacheTTL string) (*exporter, error) {
	return startExporterVersion(bin, dir, s, "v6", ids, mcr, cacheTTL)
}

func startExporterVersion(bin, dir string, s *sim, version string, ids []string, mcr int, cacheTTL string) (*exporter, error) {
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(benchPassword), 0o600); err != nil {
		return nil, err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "servers:\n  - name: bench\n    url: %s\n    api_version: %s\n    username: '%s'\n    password_file: %s\n", s.url, version, benchUser, pwFile)
	fmt.Fprintf(&cfg, "    tls_config:\n      ca_file: %s\n    timeout: 30s\n    max_concurrent_requests: %d\n    cache_ttl: %s\n    sessions:\n", s.caFile, mcr, cacheTTL)
	for _, id := range ids {
		fmt.Fprintf(&cfg, "      - %s\n", id)
	}
	cfgFile := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	logs := &bytes.Buffer{}
	cmd := exec.Command(bin, "--config.file="+cfgFile, "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &exporter{cmd: cmd, url: "http://" + addr, logs: logs,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
	for i := 0; ; i++ {
		resp, err := e.client.Get(e.url + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			return e, nil
		}
		if i > 500 {
			e.stop()
			return nil, fmt.Errorf("exporter did not start: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *exporter) stop() {
	_ = e.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
	}
}

type scrapeResult struct {
	wall       time.Duration
	handshakes float64
	sessions   int // sessions whose data was read
}

// scrape fetches /metrics as Prometheus would, uncompressed: the library floor encodes
// plain text too.
func (e *exporter) scrape() (scrapeResult, error) {
	req, _ := http.NewRequest(http.MethodGet, e.url+"/metrics", nil)
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "60")
	start := time.Now()
	resp, err := e.client.Do(req)
	if err != nil {
		return scrapeResult{}, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := scrapeResult{wall: time.Since(start)}
	if err != nil {
		return r, err
	}
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("scrape: HTTP %d", resp.StatusCode)
	}
	for line := range bytes.Lines(body) {
		switch {
		case bytes.HasPrefix(line, []byte("vb365_data_retrieval_session_info{")):
			r.sessions++
		case bytes.HasPrefix(line, []byte(`vb365_exporter_tls_handshakes_total{server="bench"} `)):
			f := bytes.Fields(line)
			r.handshakes, _ = strconv.ParseFloat(string(f[len(f)-1]), 64)
		}
	}
	return r, nil
}

// measured is what a scenario's measured scrapes cost.
type measured struct {
	walls         []time.Duration
	requests      []int64          // API requests per scrape
	byEndpoint    map[string]int64 // over all measured scrapes
	perScrape     []map[string]int64
	handshakes    []float64
	cpuPerScrape  float64
	peakRSS       int64
	sessionsShort int // scrapes that missed sessions
	warmups       int // scrapes before the measured ones
}

func measure(e *exporter, s *sim, n, want int) (measured, error) {
	m := measured{byEndpoint: map[string]int64{}}
	pid := e.cmd.Process.Pid
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return m, err
	}
	prev, err := e.scrapeHandshakes()
	if err != nil {
		return m, err
	}
	for range n {
		before := s.Stats()
		r, err := e.scrape()
		if err != nil {
			return m, err
		}
		after := s.Stats()
		m.walls = append(m.walls, r.wall)
		m.requests = append(m.requests, after.Total-before.Total)
		one := map[string]int64{}
		for k, v := range after.ByEndpoint {
			m.byEndpoint[k] += v - before.ByEndpoint[k]
			one[k] = v - before.ByEndpoint[k]
		}
		m.perScrape = append(m.perScrape, one)
		m.handshakes = append(m.handshakes, r.handshakes-prev)
		prev = r.handshakes
		if r.sessions != want {
			m.sessionsShort++
		}
	}
	cpu1, err := cpuSeconds(pid)
	if err != nil {
		return m, err
	}
	m.cpuPerScrape = (cpu1 - cpu0) / float64(n)
	m.peakRSS, err = peakRSS(pid)
	return m, err
}

// scrapeHandshakes reads the handshake counter from a scrape that is not measured.
func (e *exporter) scrapeHandshakes() (float64, error) {
	r, err := e.scrape()
	return r.handshakes, err
}

// apiFloor is the wall time of making the GETs for ids with a bare client at conc requests
// at a time over kept-alive connections: what the exporter's reads cannot beat.
func apiFloor(s *sim, ids []string, conc, reps int) ([]time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: s.pool},
		MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, ForceAttemptHTTP2: true,
	}}
	form := url.Values{"grant_type": {"password"}, "username": {benchUser}, "password": {benchPassword}}
	resp, err := client.PostForm(s.url+"/v6/token", form)
	if err != nil {
		return nil, err
	}
	var tok struct {
		Access string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if tok.Access == "" {
		return nil, errors.New("token: no access_token in the answer")
	}
	get := func(id string) error {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/v6/DataRetrievalSessions/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Access)
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: HTTP %d", id, resp.StatusCode)
		}
		return nil
	}
	round := func() (time.Duration, error) {
		start := time.Now()
		work := make(chan string)
		errs := make(chan error, conc)
		var wg sync.WaitGroup
		for range min(conc, len(ids)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range work {
					if err := get(id); err != nil {
						select {
						case errs <- err:
						default:
						}
					}
				}
			}()
		}
		for _, id := range ids {
			work <- id
		}
		close(work)
		wg.Wait()
		select {
		case err := <-errs:
			return 0, err
		default:
		}
		return time.Since(start), nil
	}
	if _, err := round(); err != nil { // opens the connections, as the exporter's warm-up does
		return nil, err
	}
	var walls []time.Duration
	for range reps {
		d, err := round()
		if err != nil {
			return nil, err
		}
		walls = append(walls, d)
	}
	return walls, nil
}

type scenario struct {
	name     string
	total    int // sessions the server holds
	running  func(i int) bool
	config   int // the first `config` sessions are configured
	mcr      int
	cacheTTL string
	warmups  int
}

// warmUp scrapes sc.warmups times, then until a scrape reads no session log: the exporter
// reads at most 50 logs a scrape, so a first look at thousands of finished Failed and
// Warning sessions takes many scrapes, and a warm scrape is one after that.
func warmUp(e *exporter, s *sim, sc scenario) (int, error) {
	// Twice the scrapes the logs need at 50 a scrape, and a few for failed reads.
	limit := sc.warmups + 2*sc.config/50 + 10
	for n := 1; ; n++ {
		before := s.Stats().ByEndpoint[simulator.EndpointLogItems]
		if _, err := e.scrape(); err != nil {
			return n, err
		}
		logReads := s.Stats().ByEndpoint[simulator.EndpointLogItems] - before
		if n >= sc.warmups && logReads == 0 {
			return n, nil
		}
		if n >= limit {
			return n, fmt.Errorf("still reading session logs (%d LogItems requests) after %d warm-up scrapes", logReads, n)
		}
	}
}

type outcome struct {
	sc       scenario
	m        measured
	runIDs   []string // the sessions a warm scrape reads
	floor    []time.Duration
	pair     []int64 // API requests of two simultaneous scrapes
	pairBase int64
	logs     int64 // LogItems requests before the measured scrapes
}

func runScenario(o options, sc scenario, floorIDs func([]string) []string, pairs int) (*outcome, error) {
	dir, err := os.MkdirTemp("", "vb365-loadtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, err := startSim(dir, sc.total, sc.running, o.latency)
	if err != nil {
		return nil, err
	}
	defer s.close()
	ids := make([]string, sc.config)
	for i := range ids {
		ids[i] = floor.SessionID(i)
	}
	e, err := startExporter(o.exporter, dir, s, ids, sc.mcr, sc.cacheTTL)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	warm, err := warmUp(e, s, sc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sc.name, err)
	}
	logs := s.Stats().ByEndpoint[simulator.EndpointLogItems]
	m, err := measure(e, s, o.scrapes, sc.config)
	m.warmups = warm
	if o.verbose {
		fmt.Fprintf(os.Stderr, "%s: walls %v requests %v\n", sc.name, m.walls, m.requests)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", sc.name, err, e.logs.String())
	}
	out := &outcome{sc: sc, m: m, logs: logs}
	// Requests a scrape makes for its sessions: the data retrieval list (re-read once a
	// minute) and the token (renewed on its own schedule) are left out, as their timers, not
	// the number of scrapes, decide when they are read.
	scrapeRequests := func() int64 {
		st := s.Stats()
		return st.ByEndpoint[simulator.EndpointSession] + st.ByEndpoint[simulator.EndpointList] + st.ByEndpoint[simulator.EndpointLogItems]
	}
	for range pairs {
		before := scrapeRequests()
		if _, err := e.scrape(); err != nil {
			return nil, err
		}
		one := scrapeRequests() - before
		before = scrapeRequests()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = e.scrape() }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		out.pairBase = max(out.pairBase, one)
		out.pair = append(out.pair, scrapeRequests()-before)
	}
	if floorIDs != nil {
		out.runIDs = floorIDs(ids)
		out.floor, err = apiFloor(s, out.runIDs, sc.mcr, max(o.scrapes, 10))
		if err != nil {
			return nil, fmt.Errorf("%s: API floor: %w", sc.name, err)
		}
	}
	return out, nil
}

func run(o options, w io.Writer) error {
	n1k, n10k, n30k := 1000/o.scale, 10000/o.scale, 30000/o.scale
	all := func(int) bool { return true }
	onePct := func(i int) bool { return i%100 == 0 }
	runningIDs := func(ids []string) []string {
		var out []string
		for i, id := range ids {
			if onePct(i) {
				out = append(out, id)
			}
		}
		return out
	}
	fmt.Fprintf(w, "vb365_exporter load test: %s, %d CPUs (%s), %s API latency (installation %s, tenants %s, as their issues set), %d measured scrapes per scenario\n\n",
		runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), cpuModel(), o.latency, installLatency, tenantLatency, o.scrapes)

	if o.scenario != "" {
		run := map[string]func(options, io.Writer, *table) error{"installation": runInstallation, "scrub": runScrub, "hostile-log": runHostileLog, "tenants": runTenants}[o.scenario]
		if run == nil {
			return fmt.Errorf("unknown scenario %q", o.scenario)
		}
		t := &table{}
		if err := run(o, w, t); err != nil {
			return err
		}
		t.print(w)
		return nil
	}
	lib, err := libFloor(n10k, max(o.scrapes, 10))
	if err != nil {
		return err
	}
	s1, err := runScenario(o, scenario{name: "1k running; server holds 1k", total: n1k, running: all, config: n1k, mcr: 16, cacheTTL: "10m", warmups: 1},
		func(ids []string) []string { return ids }, 0)
	if err != nil {
		return err
	}
	s1b, err := runScenario(o, scenario{name: "1k running; server holds 30k", total: n30k, running: func(i int) bool { return i < n1k }, config: n1k, mcr: 16, cacheTTL: "10m", warmups: 1},
		func(ids []string) []string { return ids }, 3)
	if err != nil {
		return err
	}
	s2, err := runScenario(o, scenario{name: "10k, 1% running, warm cache", total: n10k, running: onePct, config: n10k, mcr: 16, cacheTTL: "10m", warmups: 1},
		runningIDs, 3)
	if err != nil {
		return err
	}
	s3, err := runScenario(o, scenario{name: "10k cold (cache_ttl 0), list allowed", total: n10k, running: onePct, config: n10k, mcr: 16, cacheTTL: "0s", warmups: 1},
		nil, 0)
	if err != nil {
		return err
	}

	t := &table{}
	for _, oc := range []*outcome{s1, s1b, s2, s3} {
		m := oc.m
		fmt.Fprintf(w, "%-40s median %8s  p95 %8s  API requests/scrape %6.1f (%s)  TLS handshakes/scrape %.2f  CPU/scrape %6.3fs  peak RSS %6.1f MiB",
			oc.sc.name, round(percentile(m.walls, 50)), round(percentile(m.walls, 95)), medianInt(m.requests), endpoints(m, len(m.walls)), mean(m.handshakes), m.cpuPerScrape, mib(m.peakRSS))
		fmt.Fprintf(w, "  warm-up %d scrapes", m.warmups)
		if m.sessionsShort > 0 {
			fmt.Fprintf(w, "  (%d scrapes missed sessions!)", m.sessionsShort)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%-40s median %8s                CPU/scrape %6.3fs  peak RSS %6.1f MiB\n\n", fmt.Sprintf("library floor, %d sessions", lib.Sessions),
		round(time.Duration(lib.WallMedian*float64(time.Second))), lib.CPUSeconds, mib(lib.PeakRSS))

	for _, oc := range []*outcome{s1, s1b} {
		f := percentile(oc.floor, 50)
		t.row(oc.sc.name+": median scrape", dur(percentile(oc.m.walls, 50)), fmt.Sprintf("API floor %d GETs %s", len(oc.runIDs), round(f)),
			ratio(percentile(oc.m.walls, 50), f), "<= 1.15", ratio(percentile(oc.m.walls, 50), f) <= 1.15)
	}
	t.row(s2.sc.name+": API requests/scrape", fmt.Sprintf("%.0f (%s)", medianInt(s2.m.requests), endpoints(s2.m, o.scrapes)), "", 0, "<= 100", medianInt(s2.m.requests) <= float64(100/o.scale))
	libWall := time.Duration(lib.WallMedian * float64(time.Second))
	f2 := percentile(s2.floor, 50) + libWall
	t.row(s2.sc.name+": median scrape", dur(percentile(s2.m.walls, 50)),
		fmt.Sprintf("API floor %d GETs %s + library floor %s", len(s2.runIDs), round(percentile(s2.floor, 50)), round(libWall)),
		ratio(percentile(s2.m.walls, 50), f2), "<= 1.25", ratio(percentile(s2.m.walls, 50), f2) <= 1.25)
	// Issue 13's bar: once the logs of the finished sessions are read, a warm scrape reads
	// none again (a finished session's log does not change).
	var logReads []string
	for _, oc := range []*outcome{s2, s3} {
		n := oc.m.byEndpoint[simulator.EndpointLogItems]
		t.row(oc.sc.name+": LogItems requests, warm", fmt.Sprintf("%d in %d scrapes", n, len(oc.m.walls)),
			fmt.Sprintf("warm-up: %d LogItems requests in %d scrapes", oc.logs, oc.m.warmups), 0, "0", n == 0)
		if n > 0 {
			logReads = append(logReads, fmt.Sprintf("%s: %d LogItems requests in %d warm scrapes", oc.sc.name, n, len(oc.m.walls)))
		}
	}
	t.row(s3.sc.name+": API requests/scrape", fmt.Sprintf("%.0f (%s)", medianInt(s3.m.requests), endpoints(s3.m, o.scrapes)), "", 0, "<= 12", medianInt(s3.m.requests) <= 12)
	for _, oc := range []*outcome{s1b, s2} {
		okPairs := true
		for _, p := range oc.pair {
			okPairs = okPairs && p == oc.pairBase
		}
		t.row(oc.sc.name+": two scrapes at once, API requests", fmt.Sprint(oc.pair), fmt.Sprintf("one scrape %d", oc.pairBase), 0, "= one scrape's", okPairs)
	}
	cpuPer := s2.m.cpuPerScrape / float64(n10k)
	libPer := lib.CPUSeconds / float64(lib.Sessions)
	t.row(s2.sc.name+": exporter CPU/session/scrape", fmt.Sprintf("%.1fµs", cpuPer*1e6), fmt.Sprintf("library floor %.1fµs", libPer*1e6),
		cpuPer/libPer, "<= 1.1 (stretch 0.6)", cpuPer/libPer <= 1.1)
	t.row(s2.sc.name+": exporter peak RSS", fmt.Sprintf("%.1f MiB", mib(s2.m.peakRSS)), fmt.Sprintf("library floor %.1f MiB", mib(lib.PeakRSS)),
		float64(s2.m.peakRSS)/float64(lib.PeakRSS), "<= 1.25", float64(s2.m.peakRSS) <= 1.25*float64(lib.PeakRSS))
	var hs float64
	for _, oc := range []*outcome{s1, s1b, s2, s3} {
		hs += sum(oc.m.handshakes)
	}
	t.row("steady state (all scenarios): new TLS handshakes", fmt.Sprintf("%.0f in %d scrapes", hs, 4*o.scrapes), "", 0, "0", hs == 0)
	if err := runInstallation(o, w, t); err != nil {
		return err
	}
	if err := runScrub(o, w, t); err != nil {
		return err
	}
	if err := runHostileLog(o, w, t); err != nil {
		return err
	}
	if err := runTenants(o, w, t); err != nil {
		return err
	}
	t.print(w)
	if len(logReads) > 0 {
		return errors.New("FAIL: " + strings.Join(logReads, "; "))
	}
	return nil
}

// endpoints is the per-scrape mean of each endpoint's requests, e.g. "session 100, retrievals 1".
func endpoints(m measured, scrapes int) string {
	keys := make([]string, 0, len(m.byEndpoint))
	for k, v := range m.byEndpoint {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.4g", k, float64(m.byEndpoint[k])/float64(scrapes))
	}
	return strings.Join(parts, ", ")
}

type table struct{ rows [][]string }

func (t *table) row(what, value, floor string, r float64, target string, met bool) {
	rs := ""
	if r > 0 {
		rs = fmt.Sprintf("%.2f", r)
	}
	verdict := "MET"
	if !met {
		verdict = "NOT MET"
	}
	t.rows = append(t.rows, []string{what, value, floor, rs, target, verdict})
}

func (t *table) print(w io.Writer) {
	head := []string{"target", "measured", "floor (same run)", "ratio", "goal", ""}
	widths := make([]int, len(head))
	for _, r := range append([][]string{head}, t.rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		for i, c := range r {
			fmt.Fprintf(w, "| %s%s ", c, strings.Repeat(" ", widths[i]-len([]rune(c))))
		}
		fmt.Fprintln(w, "|")
	}
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = strings.Repeat("-", widths[i])
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
}

func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it are fixed.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (utime + stime) / clkTck, nil
}

func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
		}
	}
	return "unknown CPU"
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	// Nearest rank: with 12 samples the p95 is the largest.
	idx := (p*len(s) + 99) / 100
	return s[max(0, min(len(s)-1, idx-1))]
}

func medianInt(v []int64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return sum(v) / float64(len(v))
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
func round(d time.Duration) string     { return d.Round(100 * time.Microsecond).String() }
func dur(d time.Duration) string       { return round(d) }
func mib(b int64) float64              { return float64(b) / (1 << 20) }
