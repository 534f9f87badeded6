package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/vb365-exporter/vb365_exporter/sessions"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const exporterName = "vb365_exporter"

type options struct {
	configFile     string
	configCheck    bool
	telemetryPath  string
	timeoutOffset  time.Duration
	defaultTimeout time.Duration
	logLevel       string
	logFormat      string
	web            *web.FlagConfig
	// sdTarget is --web.external-url's host:port, the target /sd lists; empty: the listen address.
	sdTarget string
	// baseLogger is the level-filtered logger before ts and caller are added, for slog.
	baseLogger log.Logger
	// command is the kingpin command chosen: commandServe (the default), commandSessions
	// or commandSessionsLog.
	command     string
	sessions    sessions.ListOptions
	sessionsLog sessions.LogOptions
	jobs        sessions.JobsOptions
	jobLog      sessions.JobLogOptions
	restores    sessions.RestoresOptions
}

// defaultConfigFile is --config.file's default, named in the sessions command's hint.
const defaultConfigFile = "config.yml"

const (
	commandServe       = "serve"
	commandSessions    = "sessions list"
	commandSessionsLog = "sessions log"
	commandJobs        = "jobs list"
	commandJobLog      = "jobs log"
	commandRestores    = "restores"
)

// parseFlags returns nil options (and no error) when --help or --version was answered.
func parseFlags(args []string, stdout, stderr io.Writer) (*options, error) {
	o := &options{}
	app := kingpin.New(exporterName, "Prometheus exporter for Veeam Backup for Microsoft 365: backup jobs, license, repositories, proxies, organizations, restores and data retrievals.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	exited := false
	app.Terminate(func(int) { exited = true })
	app.HelpFlag.Short('h')
	showVersion := app.Flag("version", "Show version information and exit.").Bool()
	// The only flag every command reads; the others belong to the command that uses them, so
	// that `sessions --help` is not a page of web and scrape settings.
	app.Flag("config.file", "Path to the configuration file.").Default(defaultConfigFile).StringVar(&o.configFile)
	app.UsageTemplate(usageTemplate)
	// The exporter is the default command, so every invocation that names no command keeps
	// working as before commands existed: kingpin accepts the default command's flags
	// without its name.
	serve := app.Command(commandServe, "Run the exporter (the default command).").Default()
	serve.Flag("config.check", "Validate the configuration file, print the result and exit (0 valid, 1 invalid).").BoolVar(&o.configCheck)
	o.web = kingpinflag.AddFlags(serve, ":9925")
	externalURL := serve.Flag("web.external-url", "The URL under which Prometheus reaches the exporter (behind a proxy, NAT or DNS name); /sd lists its host and port as the targets. Default: the listen address the request came in on.").String()
	serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.telemetryPath)
	serve.Flag("scrape.timeout-offset", "Subtracted from Prometheus' scrape timeout (X-Prometheus-Scrape-Timeout-Seconds), so the answer arrives before Prometheus gives up.").Default("500ms").DurationVar(&o.timeoutOffset)
	serve.Flag("scrape.default-timeout", "Scrape deadline when the request carries no X-Prometheus-Scrape-Timeout-Seconds header.").Default("10s").DurationVar(&o.defaultTimeout)
	serve.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").EnumVar(&o.logLevel, "debug", "info", "warn", "error")
	serve.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").EnumVar(&o.logFormat, "logfmt", "json")
	addSessionsCommands(app, o)
	addJobsCommands(app, o)
	addRestoresCommand(app, o)
	cmd, err := app.Parse(args)
	// Help was printed: kingpin goes on to check required arguments (`sessions log --help`
	// has no SESSION_ID), which is no error of a help request.
	if exited {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Print(exporterName))
		return nil, nil
	}
	o.command = cmd
	switch cmd {
	case commandServe:
		o.sdTarget, err = hostPort(*externalURL)
	case commandSessions:
		err = o.sessions.Validate()
	case commandSessionsLog:
		err = o.sessionsLog.Validate()
	case commandJobLog:
		err = o.jobLog.Validate()
	case commandRestores:
		err = o.restores.Validate()
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// hostPort is the host:port of an absolute http(s) URL, the port from the scheme when absent.
func hostPort(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", fmt.Errorf("--web.external-url: %q is not an http:// or https:// URL with a host", raw)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

const serverHelp = "Name of the configured server to ask. Required when the config has more than one server."

// addSessionsCommands adds `sessions list` (what `sessions` alone runs) and `sessions log`.
// Each has its own --server and --output, so that its help lists only what it reads.
func addSessionsCommands(app *kingpin.Application, o *options) {
	cmd := app.Command("sessions", "List the data retrieval sessions of a configured server (sessions list, the default), "+
		"or print one session's log (sessions log). Uses the server entries of --config.file.")

	list := cmd.Command("list", "List the data retrieval sessions of a configured server, newest first, "+
		"to find the IDs for the config's sessions: list. Uses the server entries of --config.file.").Default()
	l := &o.sessions
	list.Flag("server", serverHelp).StringVar(&l.Server)
	list.Flag("status", "Only sessions in these statuses, comma-separated (Stopped, Running, Success, Failed, Warning, NotConfigured).").StringVar(&l.Status)
	list.Flag("since", "Only sessions created within this long before now, e.g. 24h or 7d. Empty lists all.").StringVar(&l.Since)
	list.Flag("retrieval-id", "Only sessions of this data retrieval (the API's dataRetrievalId filter).").StringVar(&l.RetrievalID)
	list.Flag("limit", fmt.Sprintf("Show at most this many sessions (the newest); 0 shows up to %d.", sessions.MaxListed)).Default("0").IntVar(&l.Limit)
	list.Flag("timeout", "Give up listing after this long (exit 1).").Default(sessions.DefaultTimeout.String()).DurationVar(&l.Timeout)
	list.Flag("output", "Output format: table, yaml (a block to paste under a server's sessions:) or json.").
		Short('o').Default("table").EnumVar(&l.Output, "table", "yaml", "json")

	logCmd := cmd.Command("log", "Print the log items of a data retrieval session, oldest first: why it failed "+
		"or warned. Uses the server entries of --config.file.")
	g := &o.sessionsLog
	logCmd.Flag("server", serverHelp).StringVar(&g.Server)
	logCmd.Flag("type", "Only log items of these types, comma-separated ("+strings.Join(vb365.LogTypes, ", ")+").").StringVar(&g.Types)
	logCmd.Flag("output", "Output format: table (time, type, message; one line each) or json.").
		Short('o').Default("table").EnumVar(&g.Output, "table", "json")
	logCmd.Arg("SESSION_ID", "ID of the data retrieval session (a UUID, as `sessions` lists them).").Required().StringVar(&g.SessionID)
}

// addJobsCommands adds `jobs list` (what `jobs` alone runs) and `jobs log`, like the
// sessions commands.
func addJobsCommands(app *kingpin.Application, o *options) {
	cmd := app.Command("jobs", "List the backup jobs of a configured server with their latest finished session "+
		"(jobs list, the default), or print that session's log (jobs log). Uses the server entries of --config.file.")
	list := cmd.Command("list", "List the backup jobs, Failed and Warning first: last status, when it ended, "+
		"and the reason from its log.").Default()
	list.Flag("server", serverHelp).StringVar(&o.jobs.Server)
	list.Flag("timeout", "Give up after this long (exit 1).").Default(sessions.DefaultTimeout.String()).DurationVar(&o.jobs.Timeout)
	list.Flag("output", "Output format: table or json.").Short('o').Default("table").EnumVar(&o.jobs.Output, "table", "json")

	logCmd := cmd.Command("log", "Print the log items of the job's latest finished session, oldest first: why it "+
		"failed or warned.")
	g := &o.jobLog
	logCmd.Flag("server", serverHelp).StringVar(&g.Server)
	logCmd.Flag("type", "Only log items of these types, comma-separated ("+strings.Join(vb365.LogTypes, ", ")+").").StringVar(&g.Types)
	logCmd.Flag("timeout", "Give up after this long (exit 1).").Default(sessions.DefaultTimeout.String()).DurationVar(&g.Timeout)
	logCmd.Flag("output", "Output format: table (time, type, message; one line each) or json.").
		Short('o').Default("table").EnumVar(&g.Output, "table", "json")
	logCmd.Arg("JOB_ID", "ID of the backup job (a UUID, as `jobs` lists them).").Required().StringVar(&g.JobID)
}

// addRestoresCommand adds `restores`: who restored what.
func addRestoresCommand(app *kingpin.Application, o *options) {
	cmd := app.Command(commandRestores, "List the restores of a configured server, newest first: when, which organization "+
		"and type, who started it from which host, the result, duration and reason. Uses the server entries of --config.file.")
	r := &o.restores
	cmd.Flag("server", serverHelp).StringVar(&r.Server)
	cmd.Flag("since", "Only restores started within this long before now, e.g. 24h or 7d.").Default(sessions.DefaultRestoresSince).StringVar(&r.Since)
	cmd.Flag("limit", fmt.Sprintf("Show at most this many restores (the newest); 0 shows up to %d.", sessions.MaxListed)).Default("0").IntVar(&r.Limit)
	cmd.Flag("timeout", "Give up after this long (exit 1).").Default(sessions.DefaultTimeout.String()).DurationVar(&r.Timeout)
	cmd.Flag("output", "Output format: table or json.").Short('o').Default("table").EnumVar(&r.Output, "table", "json")
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
{{if .Args -}}
Arguments of {{.FullCommand}}:
{{.Args|ArgsToTwoColumns|FormatTwoColumns}}
{{end -}}
{{end -}}
{{if .Context.SelectedCommand -}}
usage: {{.App.Name}} {{.Context.SelectedCommand}}{{if .Context.SelectedCommand.Commands}} [<command>]{{end}}{{template "FormatCommand" .Context.SelectedCommand}}

{{.Context.SelectedCommand.Help|Wrap 0}}
{{if .Context.SelectedCommand.Flags}}{{template "OwnFlags" .Context.SelectedCommand}}{{end -}}
{{range .Context.SelectedCommand.Commands}}{{if .Default}}{{template "OwnFlags" .}}{{end}}{{end -}}
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
{{else if .Context.SelectedCommand.Commands -}}
Commands:
{{range .Context.SelectedCommand.Commands}}{{if not .Hidden}}  {{.FullCommand}}{{if .Default}} (default){{end}}
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
