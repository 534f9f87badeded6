// Package vb365 is a client for the parts of the Veeam Backup for Microsoft 365 REST API
// that the exporter reads: the token endpoint and data retrieval sessions.
package vb365

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The API's documented enums, in one place: data retrieval session statuses
// (RESTDataRetrievalSessionStatus), the two that jobs and job sessions add (RESTJob.lastStatus,
// RESTJobSession.status), and log item types (RESTLogItem.type in v8; the bracketed word of
// the title in v6 and v7).
const (
	StatusStopped       = "Stopped"
	StatusRunning       = "Running"
	StatusSuccess       = "Success"
	StatusFailed        = "Failed"
	StatusWarning       = "Warning"
	StatusNotConfigured = "NotConfigured"
	StatusDisconnected  = "Disconnected"
	StatusQueued        = "Queued"
	LogRunning          = "Running"
	LogWarning          = "Warning"
	LogError            = "Error"
	LogSuccess          = "Success"
	LogStop             = "Stop"
)

var (
	// Statuses lists every documented session status in the order Veeam documents them.
	Statuses = []string{StatusStopped, StatusRunning, StatusSuccess, StatusFailed, StatusWarning, StatusNotConfigured}
	// JobStatuses lists every documented job and job session status.
	JobStatuses = append(slices.Clone(Statuses), StatusDisconnected, StatusQueued)
	// LogTypes lists the log item types, as `sessions log --type` accepts them.
	LogTypes = []string{LogRunning, LogWarning, LogError, LogSuccess, LogStop}
)

// IsTerminal reports whether a session in this status can no longer change.
// Running is the only state a session leaves by itself.
func IsTerminal(status string) bool {
	switch status {
	case StatusStopped, StatusSuccess, StatusFailed, StatusWarning, StatusNotConfigured:
		return true
	}
	return false
}

// Session is a data retrieval session (RESTDataRetrievalSession).
type Session struct {
	ID          ID
	Name        string
	RetrievalID ID
	// CreationTime is when the session was created.
	CreationTime time.Time
	// EndTime is the zero time while the session has not ended.
	EndTime time.Time
	// Progress is documented as a count of processed objects, not a percentage.
	Progress         int64
	ProcessedObjects int64
	Type             string
	Status           string
}

// Ended reports whether the server reported an end time.
func (s *Session) Ended() bool { return !s.EndTime.IsZero() }

// Duration is endTime - creationTime, or now - creationTime while the session runs.
func (s *Session) Duration(now time.Time) time.Duration {
	if s.Ended() {
		return s.EndTime.Sub(s.CreationTime)
	}
	return now.Sub(s.CreationTime)
}

// Final reports whether the session will not change any more, which makes it safe to cache.
func (s *Session) Final() bool { return IsTerminal(s.Status) && s.Ended() }

// Length bounds for strings from the server, applied at decode. They become label values
// and log fields, and a value is kept for as long as its session or retrieval is: a hostile
// or broken server must not be able to make one of them cost more than this. Real values
// are far shorter (UUIDs, documented enum members, job names).
const (
	// MaxNameBytes bounds names (of sessions and retrievals).
	MaxNameBytes = 256
	// MaxEnumBytes bounds enum values: status, type, dataState, lastStatus.
	MaxEnumBytes = 64
	// maxIDBytes bounds IDs, which are UUIDs (36 bytes) when the server is sane.
	maxIDBytes = 64
	// maxQuoted bounds a server's value quoted in an error (a bad time, a bad ID).
	maxQuoted = 64
)

// Cut shortens s to at most n bytes without splitting a UTF-8 character. The cut value is
// a copy, so that it does not keep a whole decoded answer alive. Text from the server must
// be scrubbed before it is cut, so that a cut cannot leave a secret's prefix behind.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.Clone(s[:n])
}

// shorten is Cut with "…" marking the cut, at most n bytes in all: for texts people read.
func shorten(s string, n int) string {
	const mark = "…"
	if len(s) <= n {
		return s
	}
	return Cut(s, n-len(mark)) + mark
}

// wireSession is named like the other wire types (see wireJob).
type wireSession struct {
	ID, Name, RetrievalID, Type, Status string
	CreationTime, EndTime               *APITime
	Progress, ProcessedObjects          *int64
}

// toSession converts and, with m, normalises, scrubs and bounds the session's texts.
func (w *wireSession) toSession(m masks) (Session, error) {
	id, err := m.entryID(w.ID)
	s := Session{ID: id, Name: w.Name, RetrievalID: answerID(w.RetrievalID), Type: w.Type, Status: w.Status}
	m.session(&s)
	if err != nil {
		return s, fmt.Errorf("session has no id")
	}
	if w.CreationTime == nil || w.CreationTime.IsZero() {
		return s, fmt.Errorf("session %q has no creationTime", s.ID)
	}
	s.CreationTime = w.CreationTime.Time
	if w.EndTime != nil {
		s.EndTime = w.EndTime.Time
	}
	if w.Progress != nil {
		s.Progress = *w.Progress
	}
	if w.ProcessedObjects != nil {
		s.ProcessedObjects = *w.ProcessedObjects
	}
	return s, nil
}

// decodeSession parses one RESTDataRetrievalSession body; its texts are normalised,
// scrubbed by m and bounded (see masks.text).
func decodeSession(body []byte, m masks) (Session, error) {
	var w wireSession
	if err := json.Unmarshal(body, &w); err != nil {
		return Session{}, fmt.Errorf("decoding session: %w", err)
	}
	return w.toSession(m)
}

// APITime parses the time formats VB365 sends: RFC 3339 with up to 7 fractional digits and
// an offset, the same without an offset (read as UTC), and null or 0001-01-01T00:00:00 for
// "no time".
type APITime struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *APITime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time must be a string: %s", shorten(string(b), maxQuoted))
	}
	parsed, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

// ParseTime parses one VB365 time string; the empty string and year 1 mean "no time".
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range timeLayouts {
		if parsed, err := time.Parse(layout, s); err == nil {
			if parsed.Year() <= 1 {
				return time.Time{}, nil
			}
			return parsed, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse time %q", shorten(s, maxQuoted))
}
