package main

import (
	"fmt"
	"io"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
)

const exporterName = "vb365_exporter"

type options struct {
	configFile    string
	configCheck   bool
	telemetryPath string
	timeoutOffset time.Duration
	defaultTimout time.Duration
	logLevel      string
	logFormat     string
	web           *web.FlagConfig
	// baseLogger is the level-filtered logger before ts and caller are added, for slog.
	baseLogger log.Logger
	// command is the kingpin command chosen: commandServe (the default) or commandSessions.
	command  string
	sessions sessionsOptions
}

const (
	commandServe    = "serve"
	commandSessions = "sessions"
)

// parseFlags returns nil options (and no error) when --help or --version was answered.
func parseFlags(args []string, stdout, stderr io.Writer) (*options, error) {
	o := &options{}
	app := kingpin.New(exporterName, "Prometheus exporter for Veeam Backup for Microsoft 365 data retrieval sessions.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	exited := false
	app.Terminate(func(int) { exited = true })
	app.HelpFlag.Short('h')
	showVersion := app.Flag("version", "Show version information and exit.").Bool()
	app.Flag("config.file", "Path to the configuration file.").Default("config.yml").StringVar(&o.configFile)
	app.Flag("config.check", "Validate the configuration file, print the result and exit (0 valid, 1 invalid).").BoolVar(&o.configCheck)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.telemetryPath)
	app.Flag("scrape.timeout-offset", "Subtracted from Prometheus' scrape timeout (X-Prometheus-Scrape-Timeout-Seconds), so the answer arrives before Prometheus gives up.").Default("500ms").DurationVar(&o.timeoutOffset)
	app.Flag("scrape.default-timeout", "Scrape deadline when the request carries no X-Prometheus-Scrape-Timeout-Seconds header.").Default("10s").DurationVar(&o.defaultTimout)
	app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").EnumVar(&o.logLevel, "debug", "info", "warn", "error")
	app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").EnumVar(&o.logFormat, "logfmt", "json")
	o.web = kingpinflag.AddFlags(app, ":9925")
	// The exporter is the default command, so every invocation that names no command keeps
	// working exactly as before commands existed; the flags above stay global for that reason.
	app.Command(commandServe, "Run the exporter (the default command).").Default()
	addSessionsCommand(app, &o.sessions)
	cmd, err := app.Parse(args)
	if err != nil {
		return nil, err
	}
	if exited {
		return nil, nil
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Print(exporterName))
		return nil, nil
	}
	o.command = cmd
	if cmd == commandSessions {
		if err := o.sessions.parse(); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// newLogger returns the project's logger. Libraries that want *slog.Logger get the same
// logger through slog-gokit (see slogger), which adds its own time and source.
func newLogger(w io.Writer, lvl, format string) (logger, base log.Logger, err error) {
	sw := log.NewSyncWriter(w)
	switch format {
	case "json":
		logger = log.NewJSONLogger(sw)
	case "logfmt", "":
		logger = log.NewLogfmtLogger(sw)
	default:
		return nil, nil, fmt.Errorf("unknown log format %q", format)
	}
	var opt level.Option
	switch lvl {
	case "debug":
		opt = level.AllowDebug()
	case "info", "":
		opt = level.AllowInfo()
	case "warn":
		opt = level.AllowWarn()
	case "error":
		opt = level.AllowError()
	default:
		return nil, nil, fmt.Errorf("unknown log level %q", lvl)
	}
	base = level.NewFilter(logger, opt)
	return log.With(base, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller), base, nil
}
