package sessions

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// LogOptions are the argument and flags of `vb365_exporter sessions log SESSION_ID`.
type LogOptions struct {
	// SessionID is the data retrieval session whose log is printed; a UUID.
	SessionID string
	// Server names the configured server to ask; it may be empty when the config has one.
	Server string
	// Types is a comma-separated list of log item types to keep; empty keeps all.
	Types string
	// Output is table or json.
	Output string

	// Parsed from the fields above by Validate.
	id    vb365.ID
	types map[string]bool
}

// Validate checks the session ID and the flags before any request is made: an ID that is not
// a UUID would otherwise reach the server's URL path, and a typo in --type would silently
// print nothing.
func (o *LogOptions) Validate() error {
	return o.validate("session", o.SessionID, "such as 2f5e8cf5-7c83-4b0b-8b6e-b1c2e9b1a0d4; `vb365_exporter sessions` lists them")
}

// validate parses the ID of what (a session, or a job for `jobs log`) into o.id, and checks
// --type and --output.
func (o *LogOptions) validate(what, id, hint string) (err error) {
	if o.id, err = vb365.ParseID(id); err != nil {
		return fmt.Errorf("%s ID %q is not a UUID (%s)", what, printable(id), hint)
	}
	if o.types, err = parseEnumSet("--type", "log item type", o.Types, vb365.LogTypes); err != nil {
		return err
	}
	switch o.Output {
	case "", "table", "json":
	default:
		return fmt.Errorf("--output: unknown format %q (want table or json)", o.Output)
	}
	return nil
}

// Log prints the log items of one data retrieval session to stdout, oldest first. Every
// failure, an unknown session (the server's 404) included, is the returned error.
func Log(ctx context.Context, cfg *config.Config, o LogOptions, stdout io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	srv, remote, err := connect(cfg, o.Server)
	if err != nil {
		return err
	}
	defer remote.Close()
	return printLog(ctx, srv, remote, vb365.SessionLogPath(o.id), "session "+string(o.id), &o, stdout)
}

// printLog prints the log at path with o's --type and --output.
func printLog(ctx context.Context, srv *config.ServerConfig, remote *server.Server, path, what string, o *LogOptions, stdout io.Writer) error {
	items, err := remote.LogItems(ctx, path)
	if err != nil {
		return describeError(srv, "cannot read the log of "+what, err)
	}
	if o.types != nil {
		items = slices.DeleteFunc(items, func(it vb365.LogItem) bool { return !o.types[it.Type] })
	}
	if o.Output == "json" {
		return writeLogJSON(stdout, items)
	}
	return writeLogTable(stdout, items)
}

func writeLogTable(w io.Writer, items []vb365.LogItem) error {
	return writeTable(w, "No log items match.", "TIME\tTYPE\tMESSAGE", len(items), func(i int) []string {
		it := &items[i]
		return []string{it.CreationTime.Format(cliTimeLayout), it.Type, it.Message}
	})
}

// jsonLogItem is one element of `sessions log --output json`; docs/flags-and-endpoints.md documents the
// field names, which scripts rely on.
type jsonLogItem struct {
	ID           string     `json:"id"`
	USN          int64      `json:"usn"`
	Type         string     `json:"type"`
	Message      string     `json:"message"`
	CreationTime time.Time  `json:"creationTime"`
	EndTime      *time.Time `json:"endTime"`
}

func writeLogJSON(w io.Writer, items []vb365.LogItem) error {
	out := make([]jsonLogItem, len(items))
	for i := range items {
		it := &items[i]
		out[i] = jsonLogItem{ID: it.ID, USN: it.USN, Type: it.Type, Message: it.Message, CreationTime: it.CreationTime}
		if !it.EndTime.IsZero() {
			end := it.EndTime
			out[i].EndTime = &end
		}
	}
	return writeJSON(w, out)
}
