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
	// The only flag every command reads; the others belong to the command that uses them, so
	// that `sessions --help` is not a page of web and scrape settings.
	app.Flag("config.file", "Path to the configuration file.").Default("config.yml").StringVar(&o.configFile)
	app.UsageTemplate(usageTemplate)
	// The exporter is the default command, so every invocation that names no command keeps
	// working as before commands existed: kingpin accepts the default command's flags
	// without its name.
	serve := app.Command(commandServe, "Run the exporter (the default command).").Default()
	serve.Flag("config.check", "Validate the configuration file, print the result and exit (0 valid, 1 invalid).").BoolVar(&o.configCheck)
	o.web = kingpinflag.AddFlags(serve, ":9925")
	serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.telemetryPath)
	serve.Flag("scrape.timeout-offset", "Subtracted from Prometheus' scrape timeout (X-Prometheus-Scrape-Timeout-Seconds), so the answer arrives before Prometheus gives up.").Default("500ms").DurationVar(&o.timeoutOffset)
	serve.Flag("scrape.default-timeout", "Scrape deadline when the request carries no X-Prometheus-Scrape-Timeout-Seconds header.").Default("10s").DurationVar(&o.defaultTimout)
	serve.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").EnumVar(&o.logLevel, "debug", "info", "warn", "error")
	serve.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").EnumVar(&o.logFormat, "logfmt", "json")
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

// usageTemplate lists the chosen command's own flags before the few the whole program
// shares; `vb365_exporter --help` (no command) shows the default command's flags, because
// that is what runs.
const usageTemplate = `{{define "FormatCommand" -}}
{{if .FlagSummary}} {{.FlagSummary}}{{end -}}
{{range .Args}}{{if not .Hidden}} {{if not .Required}}[{{end}}{{if .PlaceHolder}}{{.PlaceHolder}}{{else}}<{{.Name}}>{{end}}{{if .Value|IsCumulative}}...{{end}}{{if not .Required}}]{{end}}{{end}}{{end -}}
{{end -}}
{{define "OwnFlags" -}}
{{if .Flags -}}
Flags of {{.FullCommand}}:
{{.Flags|FlagsToTwoColumns|FormatTwoColumns}}
{{- end}}
{{end -}}
{{if .Context.SelectedCommand -}}
usage: {{.App.Name}} {{.Context.SelectedCommand}}{{template "FormatCommand" .Context.SelectedCommand}}

{{.Context.SelectedCommand.Help|Wrap 0}}
{{template "OwnFlags" .Context.SelectedCommand}}
{{- else -}}
usage: {{.App.Name}} [<command>] [<flags>]

{{.App.Help|Wrap 0}}
{{range .App.Commands}}{{if .Default}}{{template "OwnFlags" .}}{{end}}{{end}}
{{- end}}
Global flags:
{{.App.Flags|FlagsToTwoColumns|FormatTwoColumns}}
{{if not .Context.SelectedCommand -}}
Commands:
{{range .App.Commands}}{{if not .Hidden}}  {{.FullCommand}}{{if .Default}} (default){{end}}
{{.Help|Wrap 4}}
{{end}}{{end -}}
{{end -}}
`

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
