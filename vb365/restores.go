package vb365

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// RestoreSession is one restore (RESTRestoreSession): who restored which organization's data,
// of what type, when and with what result. Every string is the server's, scrubbed and cut.
type RestoreSession struct {
	ID ID
	// Organization is the organization's name: a restore session carries no organization ID.
	Name, Organization string
	// Type is Exchange, OneDrive, SharePoint or Teams (the API's Vex, Veod, Vesp, Vet); another
	// code is kept as sent.
	Type string
	// State is Working or Stopped; Result (Success, Warning, Failed) is sent while the restore
	// runs too and means nothing until it has ended.
	State, Result string
	// Scope is scopeName, set for restores made through the Restore Portal.
	InitiatedBy, ClientHost, Scope, Details, Reason string
	// EndTime is zero while the restore runs (and when an ended one does not say).
	CreationTime, EndTime time.Time
}

// RestoreStopped is the state of a restore that has ended.
const RestoreStopped = "Stopped"

// Ended reports whether the restore has ended: its state says so, or it has an end time.
func (r *RestoreSession) Ended() bool { return r.State == RestoreStopped || !r.EndTime.IsZero() }

// Duration is endTime - creationTime, now - creationTime while the restore runs, and 0 for an
// ended restore without an end time.
func (r *RestoreSession) Duration(now time.Time) time.Duration {
	switch {
	case !r.EndTime.IsZero():
		return r.EndTime.Sub(r.CreationTime)
	case r.Ended():
		return 0
	}
	return now.Sub(r.CreationTime)
}

// restoreTypes names the API's restore session types.
var restoreTypes = map[string]string{"vex": "Exchange", "veod": "OneDrive", "vesp": "SharePoint", "vet": "Teams"}

type wireRestoreSession struct {
	ID, Name, Organization, Type, State, Result, InitiatedBy, Details, ScopeName, ClientHost, Reason string
	CreationTime, EndTime                                                                            *APITime
}

func (w *wireRestoreSession) restore(m masks) (RestoreSession, error) {
	id, err := m.entryID(w.ID)
	if err == nil && w.CreationTime.value().IsZero() {
		err = errors.New("restore session has no creationTime")
	}
	typ := m.text(w.Type, MaxEnumBytes)
	if name, ok := restoreTypes[strings.ToLower(typ)]; ok {
		typ = name
	}
	return RestoreSession{ID: id, Name: m.text(w.Name, MaxNameBytes), Organization: m.text(w.Organization, MaxNameBytes), Type: typ,
		State: m.text(w.State, MaxEnumBytes), Result: m.text(w.Result, MaxEnumBytes), InitiatedBy: m.text(w.InitiatedBy, MaxNameBytes),
		ClientHost: m.text(w.ClientHost, MaxNameBytes), Scope: m.text(w.ScopeName, MaxNameBytes), Details: m.text(w.Details, MaxReasonBytes),
		Reason: m.text(w.Reason, MaxReasonBytes), CreationTime: w.CreationTime.value(), EndTime: w.EndTime.value()}, err
}

// RestoreQuery selects restore sessions. StartFrom (startTimeFrom, every version) keeps those
// created at or after it; EndFrom (endTimeFrom, v8 only, ignored before) those that ended at
// or after it. Both bounds are inclusive, and sent to the second: a caller going on from the
// newest session it saw gets that one again. MaxPages bounds the pages read (Truncated then
// says the list was longer; 0: more than 1,000 pages is an error).
type RestoreQuery struct {
	StartFrom, EndFrom time.Time
	MaxPages           int
}

// RestoreSessionPage is the page size of restore session lists: what is new since the last
// read is a page, and a day of history a few.
const RestoreSessionPage = 1000

// RestoreSessions streams the restore sessions q selects to fn: GET /vN/RestoreSessions,
// paged in every version. v8 is asked for the oldest first (it answers newest first by
// default, v6 and v7 oldest first), so that a list cut by MaxPages can be gone on from the
// newest session read; fn must not rely on the order, which a server may ignore. Memory is
// one page and what fn keeps.
func (c *Client) RestoreSessions(ctx context.Context, q RestoreQuery, fn func(RestoreSession)) (ListStats, error) {
	lq := listQuery{endpoint: "restoresessions", path: "/RestoreSessions", paged: true, limit: RestoreSessionPage, maxPages: q.MaxPages, query: url.Values{}}
	if !q.StartFrom.IsZero() {
		lq.query.Set("startTimeFrom", q.StartFrom.UTC().Format(time.RFC3339))
	}
	if c.version == "v8" {
		lq.query.Set("orderBy", "CreationTime")
		lq.query.Set("orderAsc", "true")
		if !q.EndFrom.IsZero() {
			lq.query.Set("endTimeFrom", q.EndFrom.UTC().Format(time.RFC3339))
		}
	}
	return listAll(ctx, c, lq, func(w *wireRestoreSession, m masks) error {
		r, err := w.restore(m)
		if err == nil {
			fn(r)
		}
		return err
	})
}

// GetRestoreSession reads one restore session: GET /vN/RestoreSessions/{id}.
func (c *Client) GetRestoreSession(ctx context.Context, id ID) (*RestoreSession, error) {
	var w wireRestoreSession
	if err := getOne(ctx, c, "restoresession", "/RestoreSessions/"+url.PathEscape(string(id)), &w); err != nil {
		return nil, err
	}
	r, err := w.restore(c.masks())
	if err == nil && r.ID != id {
		err = &WrongSessionError{Asked: id, Got: r.ID}
	}
	if err != nil {
		return nil, &DecodeError{Endpoint: "restoresession", Err: c.scrubError(err)}
	}
	return &r, nil
}
