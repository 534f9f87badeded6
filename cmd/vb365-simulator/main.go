// Command vb365-simulator serves the simulated Veeam Backup for Microsoft 365 REST API, for
// demos and for testing the exporter end to end without a Veeam server.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const demoPassword = "demo-password"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	listen       string
	tls          bool
	caOut        string
	username     string
	password     string
	passwordFile string
	demo         bool
	admin        bool
	endTimeStyle string
	tokenLife    time.Duration
	logLevel     string
	configOut    string
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	app := kingpin.New("vb365-simulator", "Simulates the Veeam Backup for Microsoft 365 REST API (v6, v7, v8) for demos and tests.")
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)
	helped := false
	app.Terminate(func(int) { helped = true })
	app.HelpFlag.Short('h')
	app.Flag("listen-address", "Address to listen on (port 0 picks a free port).").Default("127.0.0.1:4443").StringVar(&c.listen)
	app.Flag("tls", "Serve HTTPS with a generated self-signed certificate for localhost, 127.0.0.1 and ::1.").Default("true").BoolVar(&c.tls)
	app.Flag("tls.ca-out", "Write the generated certificate (PEM) to this file, for use as the exporter's ca_file.").StringVar(&c.caOut)
	app.Flag("username", "User name the token endpoint accepts.").Default(`vb365\monitoring`).StringVar(&c.username)
	app.Flag("password", "Password the token endpoint accepts (default "+demoPassword+", for demos only).").StringVar(&c.password)
	app.Flag("password-file", "File holding the password the token endpoint accepts.").StringVar(&c.passwordFile)
	app.Flag("demo", "Load demo sessions, data retrievals, an installation (jobs, license, repositories, proxies) and its organizations with restores.").BoolVar(&c.demo)
	app.Flag("admin", "Serve the unauthenticated /admin/ API. Only for loopback tests and demos.").BoolVar(&c.admin)
	app.Flag("end-time-style", "How a not-ended session's endTime is sent: null, absent or zero.").Default(simulator.DefaultEndTimeStyle).EnumVar(&c.endTimeStyle, simulator.EndTimeNull, simulator.EndTimeAbsent, simulator.EndTimeZero)
	app.Flag("token-lifetime", "Access token lifetime.").Default("60m").DurationVar(&c.tokenLife)
	app.Flag("config-out", "Write a vb365_exporter config for this simulator (URL, CA file, password file, demo session IDs) to this file once listening. Needs --password-file, and --tls.ca-out with --tls.").StringVar(&c.configOut)
	app.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("info").EnumVar(&c.logLevel, "debug", "info", "warn", "error")
	if _, err := app.Parse(boolAssignments(args, "tls", "demo", "admin")); err != nil {
		return nil, err
	}
	if helped {
		return nil, nil
	}
	if c.password != "" && c.passwordFile != "" {
		return nil, errors.New("--password and --password-file are mutually exclusive")
	}
	if c.passwordFile != "" {
		b, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("reading password file: %w", err)
		}
		c.password = strings.TrimRight(string(b), "\r\n")
		if c.password == "" {
			return nil, fmt.Errorf("password file %s is empty", c.passwordFile)
		}
	}
	return c, nil
}

// boolAssignments rewrites --flag=true|false, which kingpin does not accept for boolean
// flags, into --flag and --no-flag, so the documented --tls=false works.
func boolAssignments(args []string, names ...string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		for _, n := range names {
			switch strings.ToLower(a) {
			case "--" + n + "=true":
				a = "--" + n
			case "--" + n + "=false":
				a = "--no-" + n
			}
		}
		out = append(out, a)
	}
	return out
}

// run serves until ctx is cancelled and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "vb365-simulator:", err)
		return 2
	}
	if c == nil { // --help
		return 0
	}
	logger := log.NewLogfmtLogger(log.NewSyncWriter(stderr))
	logger = level.NewFilter(logger, level.Allow(level.ParseDefault(c.logLevel, level.InfoValue())))
	logger = log.With(logger, "ts", log.DefaultTimestampUTC)

	if c.password == "" {
		c.password = demoPassword
		level.Warn(logger).Log("msg", "no --password or --password-file given; using the built-in demo password")
	}
	sim := simulator.New(simulator.Options{
		Username:      c.username,
		Password:      c.password,
		TokenLifetime: c.tokenLife,
		EndTimeStyle:  c.endTimeStyle,
		Admin:         c.admin,
	})
	if c.demo {
		sim.LoadDemoData()
	}

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		level.Error(logger).Log("msg", "cannot listen", "address", c.listen, "err", err)
		return 1
	}
	scheme := "http"
	if c.tls {
		cert, certPEM, err := simulator.GenerateCert("localhost", "127.0.0.1", "::1")
		if err != nil {
			ln.Close()
			level.Error(logger).Log("msg", "cannot generate certificate", "err", err)
			return 1
		}
		if c.caOut != "" {
			if err := os.WriteFile(c.caOut, certPEM, 0o644); err != nil {
				ln.Close()
				level.Error(logger).Log("msg", "cannot write CA file", "file", c.caOut, "err", err)
				return 1
			}
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	url := scheme + "://" + ln.Addr().String()
	if c.configOut != "" {
		if err := writeExporterConfig(c, url); err != nil {
			ln.Close()
			level.Error(logger).Log("msg", "cannot write exporter config", "file", c.configOut, "err", err)
			return 1
		}
	}
	level.Info(logger).Log("msg", "listening", "url", url, "username", c.username, "demo", c.demo, "admin", c.admin, "end_time_style", c.endTimeStyle)
	fmt.Fprintln(stdout, url)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		level.Error(logger).Log("msg", "server failed", "err", err)
		return 1
	case <-ctx.Done():
	}
	level.Info(logger).Log("msg", "shutting down")
	// Stalled requests would otherwise hold Shutdown until its deadline.
	sim.ClearFaults()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	return 0
}

// writeExporterConfig writes a config an exporter can use as is, so `make demo` needs no
// hand-edited file. The password stays in its file: the config only names it.
func writeExporterConfig(c *config, url string) error {
	if c.passwordFile == "" {
		return fmt.Errorf("--config-out needs --password-file (the config refers to the password by file)")
	}
	if c.tls && c.caOut == "" {
		return fmt.Errorf("--config-out with --tls needs --tls.ca-out (the config trusts the generated CA)")
	}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by vb365-simulator --config-out for the simulator at %s.\n", url)
	b.WriteString("servers:\n  - name: simulator\n")
	fmt.Fprintf(&b, "    url: %s\n    api_version: v8\n    username: '%s'\n", url, strings.ReplaceAll(c.username, "'", "''"))
	fmt.Fprintf(&b, "    password_file: %s\n", abs(c.passwordFile))
	if c.tls {
		fmt.Fprintf(&b, "    tls_config:\n      ca_file: %s\n", abs(c.caOut))
	}
	if !c.demo {
		b.WriteString("    sessions: []\n")
	} else {
		b.WriteString("    sessions:\n")
		for _, id := range simulator.DemoSessionIDs() {
			fmt.Fprintf(&b, "      - %s\n", id)
		}
	}
	tmp := c.configOut + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, c.configOut)
}
