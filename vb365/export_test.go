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
