// Command vb365-soak runs the real vb365_exporter binary for a few minutes under many
// concurrent scrapes, against a simulator that injects every fault at random, and checks
// that it comes out as it went in: goroutines back to their baseline, heap bounded, every
// scrape answered within its deadline, the servers usable again once the faults stop.
// It prints the figures; `make soak` runs it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
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
	reloadEvery    time.Duration
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
	app.Flag("reload-every", "How often the config is swapped and reloaded (SIGHUP and POST /-/reload in turn).").Default("15s").DurationVar(&o.reloadEvery)
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

// quietEnd is the last part of the soak, without faults that make the exporter back off from
// token requests (the first pause is 30 s, the next 60 s).
const quietEnd = time.Minute

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
	// The random head makes any leak of the password, whole or cut, findable; the tail has
	// the characters URL and JSON encodings change, as a real password may.
	password := rand.Text()[:16] + `$ecret&Pa55 w0rd!"%/+`
	leaks := secretForms(password)

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
		if s.Status == "Failed" || s.Status == "Warning" {
			if err := sim.SetLogItems(s.ID, soakLog(s, password, i)); err != nil {
				return err
			}
		}
		ids = append(ids, s.ID)
	}
	// IDs the server does not know: not found is a steady per-session failure.
	ids = append(ids, newUUID(), newUUID())
	// Where redirect faults point: loopback listeners that must see no connection at all.
	traps, err := startTraps()
	if err != nil {
		return err
	}
	defer traps.close()
	conns := &connCounter{}
	faulty, err := serveSim(sim, filepath.Join(dir, "ca.pem"), true, conns)
	if err != nil {
		return err
	}
	defer faulty.close()
	badSim := simulator.New(simulator.Options{Username: username, Password: password})
	bad, err := serveSim(badSim, filepath.Join(dir, "ca-bad.pem"), false, conns)
	if err != nil {
		return err
	}
	defer bad.close()

	cfgPath, err := writeSecrets(dir, password)
	if err != nil {
		return err
	}
	configA := configText(dir, faulty, bad, ids, false)
	configB := configText(dir, faulty, bad, ids, true)
	if err := writeFileAtomic(cfgPath, configA); err != nil {
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
	st := &stats{leaks: leaks}
	runScrapers(ctx, o.scrapers, o.warmup, scrapeClient, metricsURL, st, rng.Uint64())
	scrapeClient.CloseIdleConnections()
	base, err := quietFigures(ctx, metricsURL)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	baseConns := conns.open.Load()
	fmt.Fprintf(out, "baseline after %s warm-up (%d scrapes): goroutines %d, heap in use %.1f MiB, upstream connections %d\n",
		o.warmup, st.ok.Load(), base.goroutines, mib(base.heap), baseConns)

	// The soak: scrapers, a fault changer and a sampler, until the duration ends.
	warmLeaks, warmLeak, warmEchoed := st.leaked.Load(), st.firstLeak(), st.echoed.Load()
	st = &stats{leaks: leaks, leak: warmLeak}
	soakEnd := time.Now().Add(o.duration)
	soakCtx, cancel := context.WithDeadline(ctx, soakEnd)
	defer cancel()
	var wg sync.WaitGroup
	var faultsSet atomic.Int64
	kinds := map[string]int{}
	var kindsMu sync.Mutex
	wg.Add(3)
	go func() {
		defer wg.Done()
		frng := mrand.New(mrand.NewPCG(o.seed+1, o.seed+2))
		t := time.NewTicker(o.faultEvery)
		defer t.Stop()
		for {
			sim.ClearFaults()
			for range frng.IntN(4) {
				f := randomFault(frng, ids, traps.urls, time.Until(soakEnd) < quietEnd)
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
	rl := &reloader{exp: exp, path: cfgPath, configs: [2]string{configA, configB}}
	go func() {
		defer wg.Done()
		t := time.NewTicker(o.reloadEvery)
		defer t.Stop()
		for {
			select {
			case <-soakCtx.Done():
				return
			case <-t.C:
			}
			rl.swap(soakCtx)
		}
	}()
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
			// The landing page shows the servers' errors: as much a place for an echoed
			// secret as a scrape.
			if code, err := get(soakCtx, http.DefaultClient, exp.url+"/", 10*time.Second, st.check("landing page")); err == nil && code != http.StatusOK {
				st.failed.Add(1)
			}
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
	// Back to the first config, so that the final figures compare like with like.
	if err := rl.to(ctx, 0, false); err != nil {
		rl.failed = append(rl.failed, "back to the first config: "+err.Error())
	}

	// Settle: no faults, no scrapes; then the figures must be back to the baseline.
	select {
	case <-time.After(o.settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	final, err := quietFigures(ctx, metricsURL)
	// A server may still wait out a token backoff begun before the quiet end; give it the
	// rest of the longest pause that end allows.
	for waited := time.Duration(0); err == nil && !allUp(final) && waited < quietEnd; waited += 5 * time.Second {
		time.Sleep(5 * time.Second)
		final, err = quietFigures(ctx, metricsURL)
	}
	if err != nil {
		return fmt.Errorf("final figures: %w", err)
	}
	ran := time.Since(exp.started).Truncate(time.Second)
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
	logLeaks := leaksIn(exp.logFile, leaks)
	trapped := traps.conns.Load()
	maxConns := conns.max.Load()
	finalConns := conns.open.Load()
	connLimit := int64((len(servers) + 1) * maxConcurrent)
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
	fmt.Fprintf(out, "upstream connections: baseline %d, max %d, final %d (allowed final <= %d)\n", baseConns, maxConns, finalConns, connLimit)
	fmt.Fprintf(out, "reloads: %d (%d SIGHUP, %d POST /-/reload), %d failed\n", rl.n, rl.hups, rl.n-rl.hups, len(rl.failed))
	fmt.Fprintf(out, "redirect targets (%s): %d connections\n", strings.Join(traps.urls, ", "), trapped)
	echoed := st.echoed.Load() + warmEchoed
	fmt.Fprintf(out, "password (%d forms: plain, URL-, JSON-encoded, base64 of it or of user:password, any 8 characters; any letter case): in %d scrape or page bodies, in %d exporter log lines; %d bodies showed a reason whose log held it\n", len(leaks), st.leaked.Load()+warmLeaks, logLeaks, echoed)
	fmt.Fprintf(out, "wrong-password server: %d token requests in %s\n", badTokens, ran)
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
	if trapped > 0 {
		problems = append(problems, fmt.Sprintf("the exporter followed a redirect: %d connections to the redirect targets", trapped))
	}
	if n := st.leaked.Load() + warmLeaks; n > 0 {
		problems = append(problems, fmt.Sprintf("the password appeared in %d scrape or page bodies (first: %s)", n, st.firstLeak()))
	}
	if echoed == 0 {
		problems = append(problems, "no scrape showed a reason whose log held the password: the leak check had nothing to look at")
	}
	if logLeaks > 0 {
		problems = append(problems, fmt.Sprintf("the password appeared in %d exporter log lines", logLeaks))
	}
	if finalConns > connLimit {
		problems = append(problems, fmt.Sprintf("upstream connections did not return to baseline: %d open > %d", finalConns, connLimit))
	}
	if len(rl.failed) > 0 {
		problems = append(problems, fmt.Sprintf("%d reloads failed: %s", len(rl.failed), strings.Join(rl.failed, "; ")))
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
	if limit := int64(2 + math.Log2(1+ran.Seconds()/30)); badTokens > limit {
		problems = append(problems, fmt.Sprintf("wrong password tried %d times (backoff allows %d)", badTokens, limit))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func mib(b float64) float64 { return b / (1 << 20) }

func allUp(f figures) bool {
	for _, s := range servers {
		if f.up[s.name] != 1 {
			return false
		}
	}
	return true
}

// faultKinds are all the simulator's fault kinds: the soak draws every one.
var faultKinds = []string{simulator.FaultLatency, simulator.FaultStall, simulator.FaultStatus, simulator.FaultRateLimit,
	simulator.FaultMalformed, simulator.FaultTruncated, simulator.FaultNonJSON, simulator.FaultHuge,
	simulator.FaultUnauthorized, simulator.FaultReset,
	simulator.FaultRedirect, simulator.FaultEcho, simulator.FaultTokenAnswer,
	simulator.FaultPageCap, simulator.FaultEndless, simulator.FaultHugeList, simulator.FaultLongEnum}

// tokenAnswers are the token answer fields a tokenanswer fault replaces: lifetimes too short,
// negative or past time.Duration (usable once clamped), then answers nothing can use.
var tokenAnswers = []struct {
	field, value string
	unusable     bool
}{
	{"expires_in", "0", false}, {"expires_in", "1", false}, {"expires_in", "120", false},
	{"expires_in", "-3600", false}, {"expires_in", "9.3e9", false}, {"expires_in", "1e12", false},
	{"expires_in", `"3600"`, true}, {"access_token", "", true}, {"access_token", "12345", true},
}

// randomFault draws a fault. Redirects point at traps. quiet leaves out the faults that make
// the exporter back off from token requests for 30 s or more (a 400-403 or an unusable
// answer to a token request): the last of the soak draws none, so that every server can be
// up again when the final figures are read.
func randomFault(r *mrand.Rand, ids, traps []string, quiet bool) simulator.Fault {
	endpoints := []string{simulator.EndpointSession, simulator.EndpointSession, simulator.EndpointSession,
		simulator.EndpointToken, simulator.EndpointList, simulator.EndpointRetrievals, simulator.EndpointLogItems,
		simulator.EndpointAny}
	f := simulator.Fault{
		Kind:       faultKinds[r.IntN(len(faultKinds))],
		Endpoint:   endpoints[r.IntN(len(endpoints))],
		Count:      r.IntN(6), // 0: until the next change
		Latency:    time.Duration(r.IntN(3000)) * time.Millisecond,
		Status:     []int{500, 502, 503, 400, 404}[r.IntN(5)],
		RetryAfter: time.Duration(1+r.IntN(3)) * time.Second,
		Bytes:      int64(1+r.IntN(8)) << 20,
	}
	switch f.Kind {
	case simulator.FaultRedirect:
		f.Status = []int{301, 302, 303, 307, 308}[r.IntN(5)]
		trap := traps[r.IntN(len(traps))]
		if r.IntN(2) == 0 {
			trap = "https" + strings.TrimPrefix(trap, "http")
		}
		f.Location = trap + "/v8/token?from=soak"
	case simulator.FaultTokenAnswer:
		f.Endpoint = simulator.EndpointToken
		ta := tokenAnswers[r.IntN(len(tokenAnswers))]
		for quiet && ta.unusable {
			ta = tokenAnswers[r.IntN(len(tokenAnswers))]
		}
		f.Field, f.Value = ta.field, ta.value
	case simulator.FaultPageCap:
		f.Endpoint = []string{simulator.EndpointList, simulator.EndpointRetrievals}[r.IntN(2)]
		f.Entries = 1 + r.IntN(100)
	case simulator.FaultEndless:
		f.Endpoint = simulator.EndpointList
		f.Entries, f.Bytes = 100+r.IntN(901), simulator.DefaultEndlessName
	case simulator.FaultHugeList:
		f.Endpoint = simulator.EndpointRetrievals
		f.Entries = 10000 + r.IntN(90001)
	case simulator.FaultLongEnum:
		f.Endpoint = []string{simulator.EndpointSession, simulator.EndpointList, simulator.EndpointRetrievals, simulator.EndpointLogItems}[r.IntN(4)]
		f.Bytes = 1 << (10 + r.IntN(11)) // 1 KiB to 1 MiB a value
		if f.Endpoint != simulator.EndpointSession {
			// A list carries a value per entry: a few MiB in all is plenty, and keeps the
			// simulator's own work in this process small.
			f.Bytes = min(f.Bytes, 64<<10)
		}
	}
	if quiet && (f.Endpoint == simulator.EndpointToken || f.Endpoint == simulator.EndpointAny) &&
		(f.Kind == simulator.FaultStatus || f.Kind == simulator.FaultEcho) && f.Status == 400 {
		f.Status = 500
	}
	if (f.Endpoint == simulator.EndpointSession || f.Endpoint == simulator.EndpointLogItems) && r.IntN(2) == 0 {
		f.SessionID = ids[r.IntN(len(ids))]
	}
	return f
}

type stats struct {
	start            time.Time
	ok, late, failed atomic.Int64
	mu               sync.Mutex
	latencies        []time.Duration
	// leaks are the forms of the password no answer may hold; leaked counts the answers
	// that held one, and leak says where the first was.
	leaks  []string
	leaked atomic.Int64
	leak   string
	// echoed counts the bodies that show a reason whose log held the password: without
	// them the leak check would have had nothing to find.
	echoed atomic.Int64
}

// check returns a body check that counts the bodies holding a form of the password.
func (s *stats) check(what string) func([]byte) {
	return func(body []byte) {
		if bytes.Contains(body, []byte(passwordLogMark)) {
			s.echoed.Add(1)
		}
		if form, ok := leakIn(body, s.leaks); ok {
			s.leaked.Add(1)
			s.mu.Lock()
			if s.leak == "" {
				s.leak = fmt.Sprintf("%s holds %q", what, form)
			}
			s.mu.Unlock()
		}
	}
}

func (s *stats) firstLeak() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leak
}

// secretForms are the forms of a secret a leak may take, in lower case (leakIn compares
// case-insensitively): as is, URL-encoded (space as + and as %20), path-escaped and
// JSON-escaped; any 8 characters of it, white space collapsed (issue 19: a piece, which
// also stands for any cut of it; the soak's password starts with 16 random ones); base64
// of it and of username:password, either alphabet, padded or not.
func secretForms(secret string) []string {
	js, _ := json.Marshal(secret)
	var noHTML bytes.Buffer
	enc := json.NewEncoder(&noHTML)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(secret)
	q := url.QueryEscape(secret)
	forms := []string{secret, q, strings.ReplaceAll(q, "+", "%20"), url.PathEscape(secret),
		strings.Trim(string(js), `"`), strings.Trim(strings.TrimSpace(noHTML.String()), `"`)}
	collapsed := strings.Join(strings.Fields(secret), " ")
	for i := 0; i+8 <= len(collapsed); i++ {
		forms = append(forms, collapsed[i:i+8])
	}
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, e.EncodeToString([]byte(secret)), e.EncodeToString([]byte(username+":"+secret)))
	}
	for i := range forms {
		forms[i] = strings.ToLower(forms[i])
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

func leakIn(b []byte, forms []string) (string, bool) {
	b = bytes.ToLower(b)
	for _, f := range forms {
		if bytes.Contains(b, []byte(f)) {
			return f, true
		}
	}
	return "", false
}

// leaksIn counts the lines of a log that hold a form of the password.
func leaksIn(path string, forms []string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for line := range bytes.Lines(b) {
		if _, ok := leakIn(line, forms); ok {
			n++
		}
	}
	return n
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
				code, err := get(context.Background(), c, url, timeout, st.check("scrape"))
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

func get(ctx context.Context, c *http.Client, url string, timeout time.Duration, check func([]byte)) (int, error) {
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
	body, err := io.ReadAll(resp.Body)
	check(body)
	return resp.StatusCode, err
}

type figures struct {
	goroutines int
	heap       float64
	up         map[string]float64
	// reloadOK and reloadAt are the exporter's last reload outcome and the time of its
	// last success.
	reloadOK, reloadAt float64
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
		case name == "vb365_exporter_config_last_reload_successful":
			f.reloadOK = v
		case name == "vb365_exporter_config_last_reload_success_timestamp_seconds":
			f.reloadAt = v
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

// connCounter counts the exporter's open connections to the simulators: after a reload
// the replaced servers' connections must be closed, not left to the idle timeout.
type connCounter struct{ open, max atomic.Int64 }

func (c *connCounter) track(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		n := c.open.Add(1)
		for m := c.max.Load(); n > m; m = c.max.Load() {
			if c.max.CompareAndSwap(m, n) {
				break
			}
		}
	case http.StateHijacked, http.StateClosed:
		c.open.Add(-1)
	}
}

// trapSet is where redirect faults point: loopback listeners on the simulator's host on
// another port, and on another loopback address, that count every connection. A client that
// follows a redirect would send the password or the bearer token there.
type trapSet struct {
	urls  []string
	conns atomic.Int64
	srvs  []*http.Server
}

func startTraps() (*trapSet, error) {
	t := &trapSet{}
	for _, host := range []string{"127.0.0.1", "127.0.0.2"} {
		l, err := net.Listen("tcp", host+":0")
		if err != nil {
			if host == "127.0.0.1" {
				return nil, err
			}
			continue // not every system answers on all of 127.0.0.0/8
		}
		srv := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "redirect followed", http.StatusTeapot)
			}),
			ConnState: func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					t.conns.Add(1)
				}
			},
			ErrorLog: log.New(io.Discard, "", 0),
		}
		go func() { _ = srv.Serve(l) }()
		t.srvs = append(t.srvs, srv)
		t.urls = append(t.urls, "http://"+l.Addr().String())
	}
	return t, nil
}

func (t *trapSet) close() {
	for _, s := range t.srvs {
		_ = s.Close()
	}
}

type simServer struct {
	url    string
	caFile string
	close  func()
}

// serveSim serves h over HTTPS. http1 turns HTTP/2 off: one connection per concurrent
// request, the harder case for connection and goroutine bookkeeping, and resets hit whole
// connections instead of streams.
func serveSim(h http.Handler, caFile string, http1 bool, conns *connCounter) (*simServer, error) {
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
		ConnState: conns.track,
		ErrorLog:  log.New(io.Discard, "", 0)} // resets and aborted streams are the point
	if http1 {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	return &simServer{url: "https://" + l.Addr().String(), caFile: caFile, close: func() { _ = srv.Close() }}, nil
}

func writeSecrets(dir, password string) (string, error) {
	if err := os.WriteFile(filepath.Join(dir, "password"), []byte(password+"\n"), 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "wrong-password"), []byte("not-"+password+"\n"), 0o600); err != nil {
		return "", err
	}
	return filepath.Join(dir, "config.yml"), nil
}

// configText is the soak's config, or with alt its other config for reloads: v6 with
// another timeout (the reload rebuilds its client), v7 discovering its sessions instead of
// listing them, and v8 removed.
func configText(dir string, faulty, bad *simServer, ids []string, alt bool) string {
	pwFile, wrongFile := filepath.Join(dir, "password"), filepath.Join(dir, "wrong-password")
	var b strings.Builder
	b.WriteString("servers:\n")
	entry := func(name, version, url, ca, pw, timeout string, sessions []string) {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    api_version: %s\n    username: '%s'\n    password_file: %s\n", name, url, version, username, pw)
		fmt.Fprintf(&b, "    tls_config:\n      ca_file: %s\n    timeout: %s\n    max_concurrent_requests: %d\n    cache_ttl: 5s\n", ca, timeout, maxConcurrent)
		if sessions == nil {
			b.WriteString("    discovery:\n      max_sessions: 100\n")
			return
		}
		b.WriteString("    sessions:\n")
		for _, id := range sessions {
			fmt.Fprintf(&b, "      - %s\n", id)
		}
	}
	for _, s := range servers {
		switch {
		case !alt:
			entry(s.name, s.version, faulty.url, faulty.caFile, pwFile, "2s", ids)
		case s.name == "v6":
			entry(s.name, s.version, faulty.url, faulty.caFile, pwFile, "3s", ids)
		case s.name == "v7":
			entry(s.name, s.version, faulty.url, faulty.caFile, pwFile, "2s", nil)
		}
	}
	entry("badpw", "v7", bad.url, bad.caFile, wrongFile, "2s", ids[:3])
	return b.String()
}

// writeFileAtomic replaces a file so that a reload never reads half of it.
func writeFileAtomic(path, text string) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// reloader swaps the exporter's config between two, by SIGHUP and POST /-/reload in turn.
type reloader struct {
	exp     *exporterProc
	path    string
	configs [2]string
	cur     int
	n, hups int
	failed  []string
}

func (r *reloader) swap(ctx context.Context) {
	if err := r.to(ctx, 1-r.cur, r.n%2 == 0); err != nil && ctx.Err() == nil {
		r.failed = append(r.failed, err.Error())
	}
}

func (r *reloader) to(ctx context.Context, which int, hup bool) error {
	if err := writeFileAtomic(r.path, r.configs[which]); err != nil {
		return err
	}
	r.cur = which
	r.n++
	if !hup {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.exp.url+"/-/reload", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("POST /-/reload: %w", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST /-/reload: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		return nil
	}
	// A SIGHUP has no answer: the exporter's reload metrics tell when it is done.
	r.hups++
	before, err := readFigures(ctx, http.DefaultClient, r.exp.url+"/metrics", 10*time.Second)
	if err != nil {
		return err
	}
	if err := r.exp.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return err
	}
	for range 50 {
		time.Sleep(200 * time.Millisecond)
		f, err := readFigures(ctx, http.DefaultClient, r.exp.url+"/metrics", 10*time.Second)
		if err != nil {
			return err
		}
		if f.reloadOK != 1 {
			return errors.New("SIGHUP: vb365_exporter_config_last_reload_successful is 0")
		}
		if f.reloadAt > before.reloadAt {
			return nil
		}
	}
	return errors.New("SIGHUP: no reload seen within 10s")
}

// passwordLogMark comes before the password in the soak's log messages that hold it.
const passwordLogMark = " with the password "

// soakLog is the log of a Failed or Warning soak session. Some messages hold the password
// in one of the forms issue 19 found passing (plain, URL-encoded, JSON-escaped, in upper or
// lower case, a piece of it, with its white space changed or a zero-width space inside,
// base64 of it or of the basic credentials, split over two items), as a server that logs
// the requests it got would: the exporter must scrub it from everything it shows.
func soakLog(s simulator.Session, password string, i int) []simulator.LogItem {
	t := s.CreationTime
	why, before := "Failed to retrieve item: the storage account returned 403 (AuthorizationFailure)", ""
	echo := func(form string) string { return "Authentication failed for " + username + passwordLogMark + form }
	var allU strings.Builder
	for _, r := range password {
		fmt.Fprintf(&allU, `\u%04x`, r)
	}
	half := len(password) / 2
	switch i % 12 {
	case 1:
		why = echo(password)
	case 2:
		why = "Request body grant_type=password&password=" + url.QueryEscape(password) + " was refused"
	case 3:
		why = echo(strings.ToUpper(password))
	case 4:
		why = echo(strings.ToLower(password))
	case 5:
		why = echo(password[5:20])
	case 6:
		why = echo(strings.ReplaceAll(password, " ", "\n\t  "))
	case 7:
		why = echo(password[:9] + "\u200b" + password[9:])
	case 8:
		why = echo(base64.StdEncoding.EncodeToString([]byte(password)))
	case 9:
		why = "Authorization: Basic " + base64.RawURLEncoding.EncodeToString([]byte(username+":"+password)) + " refused"
	case 10:
		why = echo(allU.String())
	case 11: // split over two consecutive items
		before, why = echo(password[:half]), password[half:]+" was refused"
	}
	items := []simulator.LogItem{{Type: simulator.LogRunning, Message: "Data retrieval session started", CreationTime: t}}
	typ := simulator.LogError
	if s.Status != "Failed" {
		typ = simulator.LogWarning
	}
	if before != "" {
		items = append(items, simulator.LogItem{Type: typ, Message: before, CreationTime: t.Add(time.Second / 2)})
	}
	items = append(items, simulator.LogItem{Type: typ, Message: why, CreationTime: t.Add(time.Second)})
	return append(items, simulator.LogItem{Type: simulator.LogStop, Message: "Data retrieval session finished", CreationTime: s.EndTime})
}

type exporterProc struct {
	started time.Time
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
	p := &exporterProc{started: time.Now(), url: "http://" + addr, logFile: logFile, cmd: cmd, done: make(chan struct{})}
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
