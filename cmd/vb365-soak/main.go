// Command vb365-soak runs the real vb365_exporter binary for a few minutes under many
// concurrent scrapes, against a simulator that injects every fault at random, and checks
// that it comes out as it went in: goroutines back to their baseline, heap bounded, every
// scrape answered within its deadline, the servers usable again once the faults stop.
// It prints the figures; `make soak` runs it.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const username = `SOAK\monitoring`

type options struct {
	exporter       string
	duration       time.Duration
	warmup         time.Duration
	settle         time.Duration
	scrapers       int
	faultEvery     time.Duration
	sessions       int
	goroutineSlack int
	maxHeapMiB     float64
	seed           uint64
	keep           bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout))
}

func run(ctx context.Context, args []string, out io.Writer) int {
	o := options{}
	app := kingpin.New("vb365-soak", "Soak test of the vb365_exporter binary against a faulty simulator.")
	app.Flag("exporter", "Path of the vb365_exporter binary to test.").Required().StringVar(&o.exporter)
	app.Flag("duration", "How long faults and scrapes run.").Default("2m30s").DurationVar(&o.duration)
	app.Flag("warmup", "Fault-free scraping before the baseline is taken.").Default("10s").DurationVar(&o.warmup)
	app.Flag("settle", "Quiet time after the faults stop, before the final figures (longer than request timeouts and Retry-After pauses).").Default("10s").DurationVar(&o.settle)
	app.Flag("scrapers", "Concurrent scrapers.").Default("16").IntVar(&o.scrapers)
	app.Flag("fault-every", "How often the set of injected faults changes.").Default("2s").DurationVar(&o.faultEvery)
	app.Flag("sessions", "Extra random sessions besides the demo ones.").Default("40").IntVar(&o.sessions)
	app.Flag("goroutine-slack", "Allowed growth of go_goroutines over the baseline (idle keep-alive connections come and go: 2 goroutines each); -1 derives it from the config.").Default("-1").IntVar(&o.goroutineSlack)
	app.Flag("max-heap-mib", "Fail when go_memstats_heap_inuse_bytes ever exceeds this.").Default("128").Float64Var(&o.maxHeapMiB)
	app.Flag("seed", "Random seed (0: random).").Default("0").Uint64Var(&o.seed)
	app.Flag("keep", "Keep the work directory (config, exporter log).").BoolVar(&o.keep)
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintln(out, "vb365-soak:", err)
		return 2
	}
	if err := soak(ctx, o, out); err != nil {
		fmt.Fprintln(out, "FAIL:", err)
		return 1
	}
	fmt.Fprintln(out, "PASS")
	return 0
}

// servers of the soak config: three API versions on the faulty simulator, and one with a
// wrong password on a clean simulator, whose token requests show the auth backoff.
var servers = []struct{ name, version string }{{"v6", "v6"}, {"v7", "v7"}, {"v8", "v8"}}

const maxConcurrent = 4

func soak(ctx context.Context, o options, out io.Writer) error {
	if o.seed == 0 {
		o.seed = mrand.Uint64()
	}
	rng := mrand.New(mrand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15))
	dir, err := os.MkdirTemp("", "vb365-soak-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(out, "work directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	password := rand.Text()

	sim := simulator.New(simulator.Options{Username: username, Password: password})
	sim.LoadDemoData()
	ids := simulator.DemoSessionIDs()
	now := time.Now()
	for i := range o.sessions {
		s := simulator.Session{
			ID: newUUID(), Name: fmt.Sprintf("soak session %d", i), RetrievalID: newUUID(),
			CreationTime: now.Add(-time.Duration(rng.IntN(3600)) * time.Second), Type: "Retrieve",
			Status: []string{"Success", "Failed", "Warning", "Stopped", "Running", "NotConfigured"}[i%6],
		}
		if s.Status == "Running" {
			s.FinishAt, s.FinalStatus, s.ProgressPerSecond, s.ObjectsPerSecond = now.Add(time.Duration(rng.IntN(300))*time.Second), "Success", 0.5, 3
		} else {
			s.EndTime = s.CreationTime.Add(time.Duration(rng.IntN(600)+1) * time.Second)
		}
		if err := sim.AddSession(s); err != nil {
			return err
		}
		ids = append(ids, s.ID)
	}
	// IDs the server does not know: not found is a steady per-session failure.
	ids = append(ids, newUUID(), newUUID())
	faulty, err := serveSim(sim, filepath.Join(dir, "ca.pem"), true)
	if err != nil {
		return err
	}
	defer faulty.close()
	badSim := simulator.New(simulator.Options{Username: username, Password: password})
	bad, err := serveSim(badSim, filepath.Join(dir, "ca-bad.pem"), false)
	if err != nil {
		return err
	}
	defer bad.close()

	cfgPath, err := writeConfig(dir, password, faulty, bad, ids)
	if err != nil {
		return err
	}
	exp, err := startExporter(ctx, o.exporter, cfgPath, filepath.Join(dir, "exporter.log"))
	if err != nil {
		return err
	}
	defer exp.stop()
	fmt.Fprintf(out, "soak: seed %d, %d scrapers, %d servers, %d sessions each, faults changing every %s for %s\n",
		o.seed, o.scrapers, len(servers)+1, len(ids), o.faultEvery, o.duration)

	scrapeClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.scrapers}}
	metricsURL := exp.url + "/metrics"

	// Warm up without faults, then take the baseline while nothing else runs.
	st := &stats{}
	runScrapers(ctx, o.scrapers, o.warmup, scrapeClient, metricsURL, st, rng.Uint64())
	scrapeClient.CloseIdleConnections()
	base, err := quietFigures(ctx, metricsURL)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Fprintf(out, "baseline after %s warm-up (%d scrapes): goroutines %d, heap in use %.1f MiB\n",
		o.warmup, st.ok.Load(), base.goroutines, mib(base.heap))

	// The soak: scrapers, a fault changer and a sampler, until the duration ends.
	st = &stats{}
	soakCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var wg sync.WaitGroup
	var faultsSet atomic.Int64
	kinds := map[string]int{}
	var kindsMu sync.Mutex
	wg.Add(2)
	go func() {
		defer wg.Done()
		frng := mrand.New(mrand.NewPCG(o.seed+1, o.seed+2))
		t := time.NewTicker(o.faultEvery)
		defer t.Stop()
		for {
			sim.ClearFaults()
			for range frng.IntN(4) {
				f := randomFault(frng, ids)
				if err := sim.SetFault(f); err != nil {
					panic(err) // randomFault only makes valid faults
				}
				faultsSet.Add(1)
				kindsMu.Lock()
				kinds[f.Kind]++
				kindsMu.Unlock()
			}
			if frng.IntN(10) == 0 {
				sim.RevokeTokens()
				kindsMu.Lock()
				kinds["revoke-tokens"]++
				kindsMu.Unlock()
			}
			select {
			case <-soakCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var samples []figures
	var samplesMu sync.Mutex
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-soakCtx.Done():
				return
			case <-t.C:
			}
			f, err := readFigures(soakCtx, http.DefaultClient, metricsURL, 10*time.Second)
			if err != nil {
				continue
			}
			samplesMu.Lock()
			samples = append(samples, f)
			samplesMu.Unlock()
			if time.Since(last) >= 15*time.Second {
				last = time.Now()
				fmt.Fprintf(out, "  %6s  scrapes %6d  late %d  errors %d  goroutines %4d  heap in use %6.1f MiB\n",
					time.Since(st.start).Truncate(time.Second), st.ok.Load(), st.late.Load(), st.failed.Load(), f.goroutines, mib(f.heap))
			}
		}
	}()
	runScrapers(soakCtx, o.scrapers, o.duration, scrapeClient, metricsURL, st, rng.Uint64())
	cancel()
	wg.Wait()
	sim.ClearFaults()
	scrapeClient.CloseIdleConnections()
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Settle: no faults, no scrapes; then the figures must be back to the baseline.
	select {
	case <-time.After(o.settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	final, err := quietFigures(ctx, metricsURL)
	if err != nil {
		return fmt.Errorf("final figures: %w", err)
	}
	if !exp.alive() {
		return errors.New("the exporter exited during the soak")
	}

	maxG, maxHeap := 0, 0.0
	for _, s := range samples {
		maxG = max(maxG, s.goroutines)
		maxHeap = max(maxHeap, s.heap)
	}
	slack := o.goroutineSlack
	if slack < 0 {
		// Each server keeps up to maxConcurrent idle connections, 2 goroutines each, and
		// how many are open depends on the last faults; plus a few for timers and the GC.
		slack = (len(servers)+1)*maxConcurrent*2 + 8
	}
	logLines, panics := countLog(exp.logFile)
	badTokens := badSim.Stats().ByEndpoint[simulator.EndpointToken]
	kindsMu.Lock()
	kindList := make([]string, 0, len(kinds))
	for k, n := range kinds {
		kindList = append(kindList, fmt.Sprintf("%s %d", k, n))
	}
	kindsMu.Unlock()
	slices.Sort(kindList)
	total := sim.Stats().Total

	fmt.Fprintf(out, "faults injected: %d (%s)\n", faultsSet.Load(), strings.Join(kindList, ", "))
	fmt.Fprintf(out, "scrapes: %d answered, %d late (past their deadline), %d failed; %d API requests to the faulty server\n",
		st.ok.Load(), st.late.Load(), st.failed.Load(), total)
	fmt.Fprintf(out, "scrape latency: p50 %s, p99 %s, max %s (deadlines 1-5 s)\n", st.quantile(0.5), st.quantile(0.99), st.quantile(1))
	fmt.Fprintf(out, "goroutines: baseline %d, max %d, final %d (allowed final <= %d)\n", base.goroutines, maxG, final.goroutines, base.goroutines+slack)
	fmt.Fprintf(out, "heap in use: baseline %.1f MiB, max %.1f MiB, final %.1f MiB (allowed max <= %.0f MiB)\n", mib(base.heap), mib(maxHeap), mib(final.heap), o.maxHeapMiB)
	fmt.Fprintf(out, "wrong-password server: %d token requests in %s\n", badTokens, o.duration+o.warmup+o.settle)
	fmt.Fprintf(out, "exporter log: %d lines, %d panics\n", logLines, panics)
	fmt.Fprintf(out, "after the faults: vb365_up %v\n", final.up)

	var problems []string
	if final.goroutines > base.goroutines+slack {
		problems = append(problems, fmt.Sprintf("goroutines did not return to baseline: %d > %d+%d", final.goroutines, base.goroutines, slack))
	}
	if mib(maxHeap) > o.maxHeapMiB || mib(final.heap) > o.maxHeapMiB {
		problems = append(problems, fmt.Sprintf("heap in use reached %.1f MiB", mib(max(maxHeap, final.heap))))
	}
	if st.late.Load() > 0 {
		problems = append(problems, fmt.Sprintf("%d scrapes answered after their deadline", st.late.Load()))
	}
	if st.failed.Load() > 0 {
		problems = append(problems, fmt.Sprintf("%d scrapes failed (no 200 answer)", st.failed.Load()))
	}
	if panics > 0 {
		problems = append(problems, "the exporter logged a panic")
	}
	for _, s := range servers {
		if final.up[s.name] != 1 {
			problems = append(problems, fmt.Sprintf("server %s not up after the faults stopped", s.name))
		}
	}
	if final.up["badpw"] != 0 {
		problems = append(problems, "the wrong-password server is up")
	}
	// 30 s doubling backoff: a few attempts in a few minutes, never one per scrape.
	if limit := int64(2 + math.Log2(1+(o.duration+o.warmup+o.settle).Seconds()/30)); badTokens > limit {
		problems = append(problems, fmt.Sprintf("wrong password tried %d times (backoff allows %d)", badTokens, limit))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func mib(b float64) float64 { return b / (1 << 20) }

func randomFault(r *mrand.Rand, ids []string) simulator.Fault {
	kinds := []string{simulator.FaultLatency, simulator.FaultStall, simulator.FaultStatus, simulator.FaultRateLimit,
		simulator.FaultMalformed, simulator.FaultTruncated, simulator.FaultNonJSON, simulator.FaultHuge,
		simulator.FaultUnauthorized, simulator.FaultReset}
	endpoints := []string{simulator.EndpointSession, simulator.EndpointSession, simulator.EndpointSession,
		simulator.EndpointToken, simulator.EndpointList, simulator.EndpointAny}
	f := simulator.Fault{
		Kind:       kinds[r.IntN(len(kinds))],
		Endpoint:   endpoints[r.IntN(len(endpoints))],
		Count:      r.IntN(6), // 0: until the next change
		Latency:    time.Duration(r.IntN(3000)) * time.Millisecond,
		Status:     []int{500, 502, 503, 400, 404}[r.IntN(5)],
		RetryAfter: time.Duration(1+r.IntN(3)) * time.Second,
		Bytes:      int64(1+r.IntN(8)) << 20,
	}
	if f.Endpoint == simulator.EndpointSession && r.IntN(2) == 0 {
		f.SessionID = ids[r.IntN(len(ids))]
	}
	return f
}

type stats struct {
	start            time.Time
	ok, late, failed atomic.Int64
	mu               sync.Mutex
	latencies        []time.Duration
}

func (s *stats) quantile(q float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	return l[int(q*float64(len(l)-1))].Truncate(time.Millisecond)
}

// runScrapers scrapes like Prometheus servers with different scrape timeouts, until d
// passes or ctx ends. A scrape is late when its answer came after the announced timeout.
func runScrapers(ctx context.Context, n int, d time.Duration, c *http.Client, url string, st *stats, seed uint64) {
	st.start = time.Now()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(seed, uint64(i)))
			for ctx.Err() == nil {
				timeout := time.Duration(1000+r.IntN(4000)) * time.Millisecond
				start := time.Now()
				code, err := get(context.Background(), c, url, timeout)
				took := time.Since(start)
				switch {
				case err != nil || code != http.StatusOK:
					st.failed.Add(1)
				case took > timeout:
					st.late.Add(1)
				default:
					st.ok.Add(1)
				}
				st.mu.Lock()
				st.latencies = append(st.latencies, took)
				st.mu.Unlock()
				select {
				case <-ctx.Done():
				case <-time.After(time.Duration(r.IntN(200)) * time.Millisecond):
				}
			}
		}()
	}
	wg.Wait()
}

func get(ctx context.Context, c *http.Client, url string, timeout time.Duration) (int, error) {
	// The client waits longer than the announced timeout, so that a late answer is seen
	// as late rather than as a failure.
	ctx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', 3, 64))
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

type figures struct {
	goroutines int
	heap       float64
	up         map[string]float64
}

// quietFigures reads the figures three times a second apart and keeps the lowest goroutine
// count: the reading scrape itself runs goroutines.
func quietFigures(ctx context.Context, url string) (figures, error) {
	var best figures
	for i := range 3 {
		f, err := readFigures(ctx, http.DefaultClient, url, 10*time.Second)
		if err != nil {
			return best, err
		}
		if i == 0 || f.goroutines < best.goroutines {
			best = f
		}
		time.Sleep(time.Second)
	}
	http.DefaultClient.CloseIdleConnections()
	return best, nil
}

func readFigures(ctx context.Context, c *http.Client, url string, timeout time.Duration) (figures, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return figures{}, err
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', 0, 64))
	resp, err := c.Do(req)
	if err != nil {
		return figures{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return figures{}, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	return parseFigures(resp.Body)
}

// parseFigures picks the few series the soak needs out of the text exposition format.
func parseFigures(r io.Reader) (figures, error) {
	f := figures{goroutines: -1, heap: -1, up: map[string]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch {
		case name == "go_goroutines":
			f.goroutines = int(v)
		case name == "go_memstats_heap_inuse_bytes":
			f.heap = v
		case strings.HasPrefix(name, `vb365_up{server="`):
			f.up[strings.TrimSuffix(strings.TrimPrefix(name, `vb365_up{server="`), `"}`)] = v
		}
	}
	if err := sc.Err(); err != nil {
		return f, err
	}
	if f.goroutines < 0 || f.heap < 0 {
		return f, errors.New("/metrics has no go_goroutines or go_memstats_heap_inuse_bytes")
	}
	return f, nil
}

type simServer struct {
	url    string
	caFile string
	close  func()
}

// serveSim serves h over HTTPS. http1 turns HTTP/2 off: one connection per concurrent
// request, the harder case for connection and goroutine bookkeeping, and resets hit whole
// connections instead of streams.
func serveSim(h http.Handler, caFile string, http1 bool) (*simServer, error) {
	cert, caPEM, err := simulator.GenerateCert("127.0.0.1")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		ErrorLog: log.New(io.Discard, "", 0)} // resets and aborted streams are the point
	if http1 {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	return &simServer{url: "https://" + l.Addr().String(), caFile: caFile, close: func() { _ = srv.Close() }}, nil
}

func writeConfig(dir, password string, faulty, bad *simServer, ids []string) (string, error) {
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return "", err
	}
	wrongFile := filepath.Join(dir, "wrong-password")
	if err := os.WriteFile(wrongFile, []byte("not-"+password+"\n"), 0o600); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("servers:\n")
	entry := func(name, version, url, ca, pw string, sessions []string) {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    api_version: %s\n    username: '%s'\n    password_file: %s\n", name, url, version, username, pw)
		fmt.Fprintf(&b, "    tls_config:\n      ca_file: %s\n    timeout: 2s\n    max_concurrent_requests: %d\n    cache_ttl: 5s\n    sessions:\n", ca, maxConcurrent)
		for _, id := range sessions {
			fmt.Fprintf(&b, "      - %s\n", id)
		}
	}
	for _, s := range servers {
		entry(s.name, s.version, faulty.url, faulty.caFile, pwFile, ids)
	}
	entry("badpw", "v7", bad.url, bad.caFile, wrongFile, ids[:3])
	path := filepath.Join(dir, "config.yml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

type exporterProc struct {
	url     string
	logFile string
	cmd     *exec.Cmd
	done    chan struct{}
}

func startExporter(ctx context.Context, bin, cfg, logFile string) (*exporterProc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	lf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=info")
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &exporterProc{url: "http://" + addr, logFile: logFile, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); lf.Close(); close(p.done) }()
	for i := 0; ; i++ {
		resp, err := http.Get(p.url + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			return p, nil
		}
		if !p.alive() || i > 200 || ctx.Err() != nil {
			p.stop()
			b, _ := os.ReadFile(logFile)
			return nil, fmt.Errorf("the exporter did not start:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *exporterProc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *exporterProc) stop() {
	if p.alive() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

func countLog(path string) (lines, panics int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		lines++
		if strings.Contains(line, "panic") || strings.HasPrefix(line, "goroutine ") {
			panics++
		}
	}
	return lines, panics
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
