package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/vb365-exporter/vb365_exporter/collector"
	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/landing"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// exporter is the running program: the config, the servers built from it and the self-metrics.
type exporter struct {
	opts     *options
	logger   log.Logger
	registry *prometheus.Registry
	safe     *config.SafeConfig
	pool     *server.Pool
	loadMu   sync.Mutex // one reload at a time, in the order asked
	reloadMu sync.Mutex // a reload's swap against shutdown
	closed   bool
}

func newExporter(opts *options, logger log.Logger) *exporter {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("vb365_exporter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return &exporter{
		opts:     opts,
		logger:   logger,
		registry: reg,
		safe:     config.NewSafeConfig(reg),
		pool:     server.NewPool(server.Options{Logger: logger, Metrics: vb365.NewMetrics(reg)}),
	}
}

// reload loads the config file and swaps it in only when the file and every server built
// from it are good; otherwise the running config stays.
func (e *exporter) reload() error {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	// Read outside reloadMu, which shutdown takes: a read that blocks (a config path that is
	// a FIFO without a writer) must not keep SIGTERM from ending the process.
	cfg, err := config.Load(e.opts.configFile)
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	if e.closed {
		return errors.New("shutting down")
	}
	return e.safe.Set(e.opts.configFile, cfg, err, e.logger, e.pool.Apply)
}

// close ends every server at shutdown, after the scrapes in flight: their idle connections
// close and their tokens are logged out, so that none outlives the process. A reload in
// progress finishes first, so that no server it builds is left open.
func (e *exporter) close() {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	e.closed = true
	e.pool.Close()
}

func (e *exporter) sources() []collector.Source {
	ts := e.pool.Servers()
	out := make([]collector.Source, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// metricsHandler serves the exporter's own metrics and, through a collector made per request,
// the VB365 metrics bounded by the scrape's deadline. The collector is gathered first, so the
// self-metrics already count this scrape's API calls.
func (e *exporter) metricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.serveVB365(w, r, e.sources(), e.registry)
	})
}

// serveVB365 answers one scrape of the given servers, bounded by the scrape's deadline, with
// the extra gatherers' metrics beside them. /metrics and /probe both answer through it.
func (e *exporter) serveVB365(w http.ResponseWriter, r *http.Request, sources []collector.Source, extra ...prometheus.Gatherer) {
	ctx, cancel := context.WithTimeout(r.Context(), e.scrapeTimeout(r))
	defer cancel()
	// The collector builds its families directly and Merge skips prometheus.Gatherers'
	// per-series re-check: at 10,000 sessions either costs more than the series do.
	gatherers := append([]prometheus.Gatherer{collector.New(ctx, sources, e.logger)}, extra...)
	promhttp.HandlerFor(collector.Merge(gatherers...), promhttp.HandlerOpts{
		ErrorLog:      promhttpLogger{e.logger},
		ErrorHandling: promhttp.ContinueOnError,
	}).ServeHTTP(w, r)
}

// scrapeTimeout follows Prometheus' announced timeout, less an offset for encoding and the
// network, as blackbox_exporter does.
func (e *exporter) scrapeTimeout(r *http.Request) time.Duration {
	timeout := e.opts.defaultTimeout
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
			timeout = time.Duration(secs * float64(time.Second))
		}
	}
	if timeout > e.opts.timeoutOffset {
		timeout -= e.opts.timeoutOffset
	}
	return timeout
}

type promhttpLogger struct{ logger log.Logger }

func (l promhttpLogger) Println(v ...interface{}) {
	level.Error(l.logger).Log("msg", fmt.Sprint(v...))
}

func (e *exporter) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(e.opts.telemetryPath, e.metricsHandler())
	e.discoveryRoutes(mux)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Ready")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "This endpoint requires a POST request.", http.StatusMethodNotAllowed)
			return
		}
		if err := e.reload(); err != nil {
			// The problems go to the log only: whoever can POST here must learn neither what
			// the file holds nor where it is.
			http.Error(w, "Config reload failed; the running configuration stays. The exporter's log says why.", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Config reloaded")
	})
	if e.opts.telemetryPath != "/" {
		mux.Handle("/", e.landingPage())
	}
	return mux
}

// landingPage shows the last scrape of every server; see package landing.
func (e *exporter) landingPage() http.Handler {
	return landing.New(landing.Options{
		Name:        "VB365 Exporter",
		Description: "Prometheus exporter for Veeam Backup for Microsoft 365: backup jobs, license, repositories, proxies, organizations, restores and data retrievals",
		Version:     version.Info(),
		MetricsPath: e.opts.telemetryPath,
		SDPath:      sdPath,
		ProbePath:   probePath,
		Links: []landing.Link{
			{Address: e.opts.telemetryPath, Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
			{Address: "/-/ready", Text: "Readiness"},
		},
		Servers: e.landingServers,
	})
}

func (e *exporter) landingServers() []landing.Server {
	cfg := e.safe.Get()
	ts := e.pool.Servers()
	out := make([]landing.Server, len(ts))
	for i, t := range ts {
		out[i] = landing.Server{Name: t.Name(), Last: t.Last()}
		if sc, ok := cfg.Server(out[i].Name); ok {
			out[i].URL, out[i].APIVersion = sc.URL, sc.APIVersion
		}
	}
	return out
}

func serve(ctx context.Context, opts *options, logger log.Logger) int {
	level.Info(logger).Log("msg", "starting vb365_exporter", "version", version.Info())
	level.Info(logger).Log("msg", "build context", "build_context", version.BuildContext())
	e := newExporter(opts, logger)
	defer e.close()
	// The first load runs beside the wait for a signal, so that SIGTERM ends the process
	// whatever the load waits on.
	loaded := make(chan error, 1)
	go func() { loaded <- e.reload() }()
	select {
	case err := <-loaded:
		if err != nil { // logged with its problems by SafeConfig
			level.Error(logger).Log("msg", "The exporter cannot start without a valid config file; exiting", "file", opts.configFile)
			return 1
		}
	case <-ctx.Done():
		level.Info(logger).Log("msg", "stopped while loading the config file")
		return 0
	}
	mux := e.routes()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				_ = e.reload() // SafeConfig logs the outcome, as for every reload

			case <-ctx.Done():
				return
			}
		}
	}()

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		errc <- web.ListenAndServe(srv, opts.web, slogger(opts.baseLogger, opts.logLevel))
	}()
	select {
	case err := <-errc:
		level.Error(logger).Log("msg", "HTTP server failed", "err", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		level.Warn(logger).Log("msg", "shutdown", "err", err)
	}
	level.Info(logger).Log("msg", "stopped")
	return 0
}

// checkConfig is --config.check: load everything a start would load, and say what is wrong
// or, per server, what it will read. Load's error lists every problem, one
// `file:line: key: problem` per line, so it is printed as it is, then its lines are counted.
func checkConfig(ctx context.Context, path string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(ctx, path)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n%s: FAILED: %d problem(s)\n", err, path, strings.Count(err.Error(), "\n")+1)
		return 1
	}
	n := 0
	for _, s := range cfg.Servers {
		discovery := "off"
		if s.Discovery != nil {
			discovery = "on"
		}
		kinds := "nothing else"
		if collected := slices.DeleteFunc(slices.Clone(config.CollectKinds), func(k string) bool { return !s.Collects(k) }); len(collected) > 0 {
			kinds = strings.Join(collected, ", ")
		}
		fmt.Fprintf(stdout, "%s: server %q: %d session(s), discovery %s, collects %s\n", path, s.Name, len(s.Sessions), discovery, kinds)
		n += len(s.Sessions)
	}
	fmt.Fprintf(stdout, "%s: SUCCESS: %d server(s), %d session(s)\n", path, len(cfg.Servers), n)
	return 0
}

// loadConfig is config.Load that gives up when ctx ends: a config path that blocks (a FIFO
// without a writer) must not keep SIGTERM from ending the command.
func loadConfig(ctx context.Context, path string) (*config.Config, error) {
	type result struct {
		cfg *config.Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		cfg, err := config.Load(path)
		done <- result{cfg, err}
	}()
	select {
	case r := <-done:
		return r.cfg, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("stopped while reading the config file %s", path)
	}
}

// slogger bridges to exporter-toolkit, which logs through *slog.Logger, so that its lines
// come out as the exporter's own: the same level filter, and the keys in the same order
// (level, ts, caller, msg) where slog-gokit would write level, caller, time, msg.
func slogger(base log.Logger, lvl string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(lvl)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(sloggokit.NewGoKitHandler(log.LoggerFunc(func(kv ...any) error {
		out := make([]any, 0, len(kv))
		var ts any
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == slog.TimeKey {
				if t, ok := kv[i+1].(time.Time); ok {
					ts = t.UTC()
					continue
				}
			}
			out = append(out, kv[i], kv[i+1])
		}
		if ts != nil && len(out) >= 2 {
			out = append(out[:2], append([]any{"ts", ts}, out[2:]...)...)
		}
		return base.Log(out...)
	}), l))
}
