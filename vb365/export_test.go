package vb365

import (
	"bytes"
	"context"
)

// DecodeSession parses one session body with no secret to mask.
func DecodeSession(body []byte) (Session, error) { return decodeSession(body, masks{}) }

// DecodePage parses one page of the session list with no secret to mask.
func DecodePage(body []byte) (*Page, error) {
	return decodePage(context.Background(), body, 0, masks{})
}

// Scrub normalises s and masks every secret in it; see masks.text and forms.mask. The
// client keeps the forms of its secrets instead of making them for each string.
func Scrub(s string, secrets ...string) string {
	return masks{newForms("", "", secrets...)}.text(s, 0)
}

// decodePage parses one page, decoding at most keep entries (all when keep is 0).
func decodePage(ctx context.Context, body []byte, keep int, m masks) (*Page, error) {
	return decodePageFrom(ctx, bytes.NewReader(body), keep, m)
}

// SessionLogItems reads the log of a data retrieval session (see LogItems).
func (c *Client) SessionLogItems(ctx context.Context, sessionID ID) ([]LogItem, error) {
	return c.LogItems(ctx, SessionLogPath(sessionID))
}

// JobSessionLogItems reads a job session's log, GET /vN/JobSessions/{id}/LogItems, as
// SessionLogItems reads a data retrieval session's.
func (c *Client) JobSessionLogItems(ctx context.Context, id ID) ([]LogItem, error) {
	return c.LogItems(ctx, JobSessionLogPath(id))
}

// PickReason is LogSummary.Reason for a log held whole.
func PickReason(status string, items []LogItem) (LogItem, bool) {
	var s LogSummary
	for _, it := range items {
		s.add(it)
	}
	return s.Reason(status)
}
