package vb365

import "context"

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
