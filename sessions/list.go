// Package sessions is the `vb365_exporter sessions` command: it lists a configured server's
// data retrieval sessions and prints a session's log.
package sessions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/common/model"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// ListOptions are the flags of `vb365_exporter sessions list` (the default of `sessions`).
type ListOptions struct {
	// Server names the configured server to ask; it may be empty when the config has one.
	Server string
	// Status is a comma-separated list of session statuses to keep; empty keeps all.
	Status string
	// Since keeps sessions created within this long before now (24h, 7d); empty keeps all.
	Since       string
	RetrievalID string
	// Limit keeps the newest this many sessions; 0 keeps up to MaxListed.
	Limit int
	// Timeout bounds the whole command; 0 is DefaultTimeout.
	Timeout time.Duration
	// Output is table, yaml or json.
	Output string

	// Parsed from the fields above by Validate.
	statuses    map[string]bool
	since       time.Duration
	retrievalID vb365.ID
}

// MaxListed bounds what `sessions list` keeps to sort: a server's list may be endless.
const MaxListed = 10000

// listPage is the sessions asked for per request (docs/first-five-minutes.md says 1,000):
// smaller pages than discovery's, so a --timeout that ends a long list loses less.
const listPage = 1000

// DefaultTimeout is --timeout's default.
const DefaultTimeout = time.Minute

// Validate checks the options that a flag parser cannot check itself, so that a typo is a
// usage error before any request is made. List calls it too.
func (o *ListOptions) Validate() error {
	var err error
	if o.statuses, err = parseEnumSet("--status", "status", o.Status, vb365.Statuses); err != nil {
		return err
	}
	o.since = 0
	if o.Since != "" {
		d, err := model.ParseDuration(o.Since)
		if err != nil || d <= 0 {
			return fmt.Errorf("--since: %q is not a positive duration such as 24h or 7d", o.Since)
		}
		o.since = time.Duration(d)
	}
	o.retrievalID = ""
	if o.RetrievalID != "" {
		id, err := vb365.ParseID(o.RetrievalID)
		if err != nil {
			return fmt.Errorf("--retrieval-id: %w", err)
		}
		o.retrievalID = id
	}
	if o.Limit < 0 || o.Limit > MaxListed {
		return fmt.Errorf("--limit: must be 0 to %d", MaxListed)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("--timeout: must not be negative")
	}
	switch o.Output {
	case "", "table", "yaml", "json":
	default:
		return fmt.Errorf("--output: unknown format %q (want table, yaml or json)", o.Output)
	}
	return nil
}

// connect picks the configured server (by name when there are several) and builds the same
// server object the exporter uses: same TLS, timeout and token handling, from the entry as
// narrow changes it, if given. Close it after use.
func connect(cfg *config.Config, name string, narrow ...func(*config.ServerConfig)) (*config.ServerConfig, *server.Server, error) {
	srv, err := pickServer(cfg, name)
	if err != nil {
		return nil, nil, err
	}
	entry := *srv
	for _, f := range narrow {
		f(&entry)
	}
	remote, err := server.New(&entry, server.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("server %q: %w", srv.Name, err)
	}
	return srv, remote, nil
}

// List prints the data retrieval sessions of one configured server, newest first, to
// stdout; a warning about sessions it could not decode goes to stderr. Every failure is the
// returned error, which names the cause (password, CA file, address), so that a first-time
// user needs no stack of logs.
func List(ctx context.Context, cfg *config.Config, o ListOptions, stdout, stderr io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	timeout := cmp.Or(o.Timeout, DefaultTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	srv, remote, err := connect(cfg, o.Server)
	if err != nil {
		return err
	}
	defer remote.Close()

	now := time.Now()
	var cutoff time.Time
	if o.since > 0 {
		cutoff = now.Add(-o.since)
	}
	kept := newest[vb365.Session]{limit: cmp.Or(o.Limit, MaxListed), key: sessionKey}
	invalid := 0
	// Veeam documents the list's order only as "its own semantics": the newest sessions may
	// be on any page, so every page is read (the client bounds their number) and the order
	// is made here, keeping only the newest sessions seen so far.
	err = remote.ListAllSessions(ctx, o.retrievalID, listPage, func(p *vb365.Page) error {
		invalid += len(p.Invalid)
		for _, s := range p.Sessions {
			if (cutoff.IsZero() || !s.CreationTime.Before(cutoff)) && (o.statuses == nil || o.statuses[s.Status]) {
				kept.add(s)
			}
		}
		return nil
	})
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("server %q: the session list did not end within --timeout %s (%d matching sessions read so far); "+
			"narrow it with --since, --status or --retrieval-id, or raise --timeout", srv.Name, timeout, kept.seen)
	}
	if err != nil {
		what := "cannot list sessions"
		if kept.seen > 0 {
			what += fmt.Sprintf(" (%d matching read, none printed)", kept.seen)
		}
		return describeError(srv, what, err)
	}
	found := kept.sorted()
	if invalid > 0 {
		fmt.Fprintf(stderr, "vb365_exporter sessions: warning: %d session(s) in the list could not be decoded and are not shown\n", invalid)
	}
	if o.Limit == 0 && kept.seen > len(found) {
		fmt.Fprintf(stderr, "vb365_exporter sessions: warning: %d sessions match; only the newest %d are shown (narrow with --since, --status or --retrieval-id)\n",
			kept.seen, len(found))
	}
	switch o.Output {
	case "yaml":
		return writeSessionsYAML(stdout, srv, found, &o)
	case "json":
		return writeSessionsJSON(stdout, found, now)
	default:
		return writeSessionsTable(stdout, found, now)
	}
}

// newest keeps the newest limit items of those added (by key: creation time, ties by ID, so
// the output does not depend on the server's order), in at most twice that space.
type newest[T any] struct {
	limit int
	seen  int // items added
	kept  []T
	key   func(*T) (time.Time, vb365.ID)
}

func (n *newest[T]) add(s T) {
	n.seen++
	n.kept = append(n.kept, s)
	if len(n.kept) >= 2*n.limit {
		n.kept = n.sorted()
	}
}

// sorted sorts what is kept, newest first, and keeps at most limit of it (all when 0).
func (n *newest[T]) sorted() []T {
	sort.Slice(n.kept, func(i, j int) bool {
		ta, ia := n.key(&n.kept[i])
		tb, ib := n.key(&n.kept[j])
		if !ta.Equal(tb) {
			return ta.After(tb)
		}
		return ia < ib
	})
	if n.limit > 0 && len(n.kept) > n.limit {
		n.kept = n.kept[:n.limit]
	}
	return n.kept
}

func sessionKey(s *vb365.Session) (time.Time, vb365.ID) { return s.CreationTime, s.ID }

func pickServer(cfg *config.Config, name string) (*config.ServerConfig, error) {
	names := make([]string, len(cfg.Servers))
	for i := range cfg.Servers {
		names[i] = cfg.Servers[i].Name
	}
	if name != "" {
		if s, ok := cfg.Server(name); ok {
			return s, nil
		}
		return nil, fmt.Errorf("--server %q is not in the config (servers: %s)", name, strings.Join(names, ", "))
	}
	if len(cfg.Servers) != 1 {
		return nil, fmt.Errorf("the config has %d servers; pick one with --server (servers: %s)", len(cfg.Servers), strings.Join(names, ", "))
	}
	return &cfg.Servers[0], nil
}

// describeError names the server and, for refused credentials, drops the client's retry
// schedule: that is for the long-running exporter, not for a command that exits.
func describeError(srv *config.ServerConfig, what string, err error) error {
	where := fmt.Sprintf("server %q (%s, %s)", srv.Name, srv.URL, srv.APIVersion)
	var authErr *vb365.AuthError
	if errors.As(err, &authErr) {
		return fmt.Errorf("%s: authentication failed for user '%s' (check username and password): %w", where, srv.Username, authErr.Err)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: interrupted", where)
	}
	return fmt.Errorf("%s: %s: %w", where, what, err)
}

// printable makes an API string safe for a terminal and for a YAML comment: control
// characters (escape sequences, newlines) could otherwise rewrite the screen or end the
// comment and inject keys into a pasted config.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

const cliTimeLayout = "2006-01-02 15:04:05 -07:00"

func formatEnd(s *vb365.Session) string {
	if !s.Ended() {
		return "-"
	}
	return s.EndTime.Format(cliTimeLayout)
}

func formatDuration(s *vb365.Session, now time.Time) string {
	d := s.Duration(now).Round(time.Second).String()
	if !s.Ended() {
		return d + " (not ended)"
	}
	return d
}

func writeSessionsTable(w io.Writer, sessions []vb365.Session, now time.Time) error {
	return writeTable(w, "No data retrieval sessions match.", "ID\tNAME\tTYPE\tSTATUS\tCREATED\tENDED\tDURATION\tOBJECTS",
		len(sessions), func(i int) []string {
			s := &sessions[i]
			return []string{string(s.ID), s.Name, s.Type, s.Status, s.CreationTime.Format(cliTimeLayout),
				formatEnd(s), formatDuration(s, now), strconv.FormatInt(s.ProcessedObjects, 10)}
		})
}

// writeSessionsYAML prints list items indented for a server entry laid out like
// config.example.yml, each with a comment naming the session, so the IDs stay recognisable
// in the config long after they were pasted.
func writeSessionsYAML(w io.Writer, srv *config.ServerConfig, sessions []vb365.Session, o *ListOptions) error {
	var b strings.Builder
	var filters []string
	if o.Status != "" {
		filters = append(filters, "--status "+o.Status)
	}
	if o.Since != "" {
		filters = append(filters, "--since "+o.Since)
	}
	if o.retrievalID != "" {
		filters = append(filters, "--retrieval-id "+string(o.retrievalID))
	}
	if o.Limit > 0 {
		filters = append(filters, fmt.Sprintf("--limit %d", o.Limit))
	}
	selected := ""
	if len(filters) > 0 {
		selected = " (" + strings.Join(filters, " ") + ")"
	}
	fmt.Fprintf(&b, "      # vb365_exporter sessions: %d data retrieval session(s) of server %q%s, newest first.\n",
		len(sessions), printable(srv.Name), printable(selected))
	b.WriteString("      # Paste under the server's sessions: key (the indent fits config.example.yml).\n")
	for i := range sessions {
		s := &sessions[i]
		if _, err := vb365.ParseID(string(s.ID)); err != nil {
			// The config takes UUIDs only, and an ID from the server must not add lines or
			// keys to the config it is pasted into: it is shown, not listed.
			fmt.Fprintf(&b, "      # not a UUID, cannot be configured: %s\n", printable(string(s.ID)))
			continue
		}
		fmt.Fprintf(&b, "      - %s  # %s (%s, %s, created %s)\n", s.ID, printable(s.Name), printable(s.Type), printable(s.Status),
			s.CreationTime.Format(cliTimeLayout))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonSession struct {
	ID               vb365.ID   `json:"id"`
	Name             string     `json:"name"`
	RetrievalID      vb365.ID   `json:"retrievalId"`
	Type             string     `json:"type"`
	Status           string     `json:"status"`
	CreationTime     time.Time  `json:"creationTime"`
	EndTime          *time.Time `json:"endTime"`
	DurationSeconds  float64    `json:"durationSeconds"`
	Progress         int64      `json:"progress"`
	ProcessedObjects int64      `json:"processedObjects"`
}

func writeSessionsJSON(w io.Writer, sessions []vb365.Session, now time.Time) error {
	out := make([]jsonSession, len(sessions))
	for i := range sessions {
		s := &sessions[i]
		out[i] = jsonSession{ID: s.ID, Name: s.Name, RetrievalID: s.RetrievalID, Type: s.Type, Status: s.Status,
			CreationTime: s.CreationTime, DurationSeconds: s.Duration(now).Seconds(),
			Progress: s.Progress, ProcessedObjects: s.ProcessedObjects}
		if s.Ended() {
			end := s.EndTime
			out[i].EndTime = &end
		}
	}
	return writeJSON(w, out)
}
