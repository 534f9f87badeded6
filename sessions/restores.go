package sessions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// RestoresOptions are the flags of `vb365_exporter restores`.
type RestoresOptions struct {
	// Server names the configured server to ask; it may be empty when the config has one.
	Server string
	// Since keeps restores started within this long before now (24h, 7d); empty is 24h.
	Since string
	// Limit keeps the newest this many restores; 0 keeps up to MaxListed.
	Limit int
	// Timeout bounds the whole command; 0 is DefaultTimeout.
	Timeout time.Duration
	// Output is table or json.
	Output string

	since time.Duration // parsed by Validate
}

// DefaultRestoresSince is --since's default: a day of restores, what a daily review reads.
const DefaultRestoresSince = "24h"

// Validate checks the flags before any request is made.
func (o *RestoresOptions) Validate() error {
	d, err := model.ParseDuration(cmp.Or(o.Since, DefaultRestoresSince))
	if err != nil || d <= 0 {
		return fmt.Errorf("--since: %q is not a positive duration such as 24h or 7d", o.Since)
	}
	o.since = time.Duration(d)
	switch {
	case o.Limit < 0 || o.Limit > MaxListed:
		return fmt.Errorf("--limit: must be 0 to %d", MaxListed)
	case o.Timeout < 0:
		return fmt.Errorf("--timeout: must not be negative")
	case o.Output != "" && o.Output != "table" && o.Output != "json":
		return fmt.Errorf("--output: unknown format %q (want table or json)", o.Output)
	}
	return nil
}

// Restores prints who restored what on one configured server: the restore sessions started
// within --since, newest first, each with its organization, type, operator, client host,
// scope, result, duration and reason. Every string is the client's, scrubbed and cut; the
// list is read by startTimeFrom, which every API version has, and at most the newest
// --limit are kept while it is read.
func Restores(ctx context.Context, cfg *config.Config, o RestoresOptions, stdout, stderr io.Writer) error {
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
	kept := newest[vb365.RestoreSession]{limit: cmp.Or(o.Limit, MaxListed),
		key: func(r *vb365.RestoreSession) (time.Time, vb365.ID) { return r.CreationTime, r.ID }}
	stats, err := remote.ListRestoreSessions(ctx, vb365.RestoreQuery{StartFrom: now.Add(-o.since)}, kept.add)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("server %q: the restore list did not end within --timeout %s (%d read so far); "+
			"narrow it with --since or raise --timeout", srv.Name, timeout, kept.seen)
	}
	if err != nil {
		return describeError(srv, "cannot list restore sessions", err)
	}
	found := kept.sorted()
	if stats.Invalid > 0 {
		fmt.Fprintf(stderr, "vb365_exporter restores: warning: %d restore session(s) in the list could not be decoded and are not shown\n", stats.Invalid)
	}
	if kept.seen > len(found) {
		fmt.Fprintf(stderr, "vb365_exporter restores: warning: %d restores match; only the newest %d are shown (narrow with --since)\n",
			kept.seen, len(found))
	}
	if o.Output == "json" {
		return writeRestoresJSON(stdout, found, now)
	}
	return writeTable(stdout, fmt.Sprintf("No restores started within %s.", o.since), "STARTED\tORGANIZATION\tTYPE\tINITIATED BY\tCLIENT HOST\tSCOPE\tRESULT\tDURATION\tREASON\tDETAILS",
		len(found), func(i int) []string {
			r := &found[i]
			return []string{r.CreationTime.Format(cliTimeLayout), r.Organization, r.Type, r.InitiatedBy, r.ClientHost,
				cmp.Or(r.Scope, "-"), restoreResult(r), r.Duration(now).Round(time.Second).String(), r.Reason, r.Details}
		})
}

// restoreResult is the result of an ended restore, Running otherwise: the API sends a result
// while a restore runs too, which means nothing until it has ended.
func restoreResult(r *vb365.RestoreSession) string {
	if !r.Ended() {
		return "Running"
	}
	return cmp.Or(r.Result, "-")
}

// jsonRestore is one element of `restores --output json`; docs/flags-and-endpoints.md
// documents the field names.
type jsonRestore struct {
	ID              vb365.ID   `json:"id"`
	Name            string     `json:"name"`
	Organization    string     `json:"organization"`
	Type            string     `json:"type"`
	InitiatedBy     string     `json:"initiatedBy"`
	ClientHost      string     `json:"clientHost"`
	Scope           string     `json:"scope"`
	State           string     `json:"state"`
	Result          string     `json:"result"`
	CreationTime    time.Time  `json:"creationTime"`
	EndTime         *time.Time `json:"endTime"`
	DurationSeconds float64    `json:"durationSeconds"`
	Reason          string     `json:"reason"`
	Details         string     `json:"details"`
}

func writeRestoresJSON(w io.Writer, restores []vb365.RestoreSession, now time.Time) error {
	out := make([]jsonRestore, len(restores))
	for i := range restores {
		r := &restores[i]
		out[i] = jsonRestore{ID: r.ID, Name: r.Name, Organization: r.Organization, Type: r.Type, InitiatedBy: r.InitiatedBy,
			ClientHost: r.ClientHost, Scope: r.Scope, State: r.State, Result: restoreResult(r), CreationTime: r.CreationTime,
			DurationSeconds: r.Duration(now).Seconds(), Reason: r.Reason, Details: r.Details}
		if !r.EndTime.IsZero() {
			out[i].EndTime = &r.EndTime
		}
	}
	return writeJSON(w, out)
}
