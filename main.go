// Command vb365_exporter exports Veeam Backup for Microsoft 365 data retrieval sessions as
// Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vb365-exporter/vb365_exporter/sessions"
	"github.com/vb365-exporter/vb365_exporter/winsvc"
)

func main() {
	// Started by the Windows service manager: run under it, with relative paths resolved
	// next to the executable (services start in System32). Elsewhere this returns at once.
	if isService, code := winsvc.Main("vb365_exporter", run, os.Args[1:],
		winsvc.FileFlag{Name: "config.file", Default: "config.yml"},
		winsvc.FileFlag{Name: "web.config.file"},
	); isService {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code when ctx ends or the server fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "vb365_exporter:", err)
		return 2
	}
	if opts == nil { // --help or --version already answered
		return 0
	}
	logger, base, err := newLogger(stderr, opts.logLevel, opts.logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "vb365_exporter:", err)
		return 2
	}
	opts.baseLogger = base
	if opts.configCheck {
		return checkConfig(ctx, opts.configFile, stdout, stderr)
	}
	switch opts.command {
	case commandSessions, commandSessionsLog, commandJobs, commandJobLog, commandRestores:
		return runSessions(ctx, opts, stdout, stderr)
	}
	return serve(ctx, opts, logger)
}

// runSessions runs a `sessions`, `jobs` or `restores` command. Every failure is one line on stderr and exit 1, so
// that a first-time user sees the cause (password, CA file, address) without a stack of logs.
func runSessions(ctx context.Context, opts *options, stdout, stderr io.Writer) int {
	prefix := "vb365_exporter " + strings.TrimSuffix(opts.command, " list") + ":"
	cfg, err := loadConfig(ctx, opts.configFile)
	if _, statErr := os.Stat(opts.configFile); err != nil && errors.Is(statErr, fs.ErrNotExist) {
		// The first thing a new user runs: say what the command needs, not just ENOENT.
		err = fmt.Errorf("no config file %q (--config.file, default %q): pass --config.file=PATH naming "+
			"the exporter's config; this command uses its server entries", opts.configFile, defaultConfigFile)
	}
	if err == nil {
		switch opts.command {
		case commandSessionsLog:
			err = sessions.Log(ctx, cfg, opts.sessionsLog, stdout)
		case commandJobs:
			err = sessions.Jobs(ctx, cfg, opts.jobs, stdout)
		case commandJobLog:
			err = sessions.JobLog(ctx, cfg, opts.jobLog, stdout)
		case commandRestores:
			err = sessions.Restores(ctx, cfg, opts.restores, stdout, stderr)
		default:
			err = sessions.List(ctx, cfg, opts.sessions, stdout, stderr)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, prefix, oneLine(err.Error()))
		return 1
	}
	return 0
}

// oneLine keeps an error on one line even if a server put newlines into its message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
