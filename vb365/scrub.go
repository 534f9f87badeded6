package vb365

import (
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// secretMask replaces a secret in text that came from the server.
const secretMask = "<secret>"

// minSecretTail is how much of a secret's start, left at the very end of a text (a server
// that cut its echo), is masked too. Shorter tails are too likely to be ordinary text.
const minSecretTail = 4

// Scrub masks every secret in s, in any encoding a server echoing a request may use: plain,
// percent-encoded (either hex case, '+' or %20 for a space, any mix of encoded and plain
// characters, as url.QueryEscape, url.PathEscape and JavaScript's encodeURIComponent write
// them) and JSON-escaped (\uXXXX, \", \\, \/ ...). A secret's start of at least four bytes
// left at the end of s is masked too. Text from the server must be scrubbed before it is
// cut, so that a cut cannot leave a secret's prefix behind.
func Scrub(s string, secrets ...string) string {
	if s == "" {
		return s
	}
	// Longest first: a token may contain the password, never the other way round.
	list := make([]string, 0, len(secrets))
	for _, sec := range secrets {
		if sec != "" {
			list = append(list, sec)
		}
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	for _, sec := range list {
		s = maskSecret(s, sec)
	}
	return s
}

// Scrub masks the password and the client's current access and refresh tokens in s; see
// the package-level Scrub. Any text from the server that reaches a log, a page or a metric
// goes through it.
func (c *Client) Scrub(s string) string { return c.scrub(s, "") }

// scrub also masks sent, the token the request carried, which may already be dropped.
func (c *Client) scrub(s, sent string) string {
	if s == "" {
		return s
	}
	return Scrub(s, c.secrets(sent)...)
}

func (c *Client) secrets(sent string) []string {
	secrets := []string{c.password(), sent}
	c.mu.Lock()
	if c.token != nil {
		secrets = append(secrets, c.token.access, c.token.refresh)
	}
	c.mu.Unlock()
	return secrets
}

// masks are the secrets to mask in one answer, read once for all of its entries: texts are
// masked of the secrets as they are; IDs, which the decoder lower-cased before the secrets
// were at hand, of each secret in lower case too, so that a password a server sent back as
// an ID cannot reach a label case-folded.
type masks struct{ texts, ids []string }

func (c *Client) masks() masks {
	texts := c.secrets("")
	ids := make([]string, 0, 2*len(texts))
	for _, sec := range texts {
		ids = append(ids, sec, strings.ToLower(sec))
	}
	return masks{texts: texts, ids: ids}
}

// session masks secrets in a session's texts, which become labels and log fields: a server
// is trusted with its own data only, not with making the exporter publish ours.
func (m masks) session(s *Session) {
	s.ID, s.RetrievalID = m.id(s.ID), m.id(s.RetrievalID)
	for _, f := range []*string{&s.Name, &s.Type, &s.Status} {
		*f = Scrub(*f, m.texts...)
	}
}

// retrieval does for a data retrieval what session does for a session.
func (m masks) retrieval(r *Retrieval) {
	r.ID = m.id(r.ID)
	for _, f := range []*string{&r.Name, &r.Type, &r.DataState, &r.LastStatus} {
		*f = Scrub(*f, m.texts...)
	}
}

func (m masks) id(id ID) ID { return ID(Scrub(string(id), m.ids...)) }

func maskSecret(s, secret string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch != secret[0] && ch != '%' && ch != '+' && ch != '\\' {
			continue
		}
		end := matchSecret(s, secret, i)
		if end <= i {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:i])
		b.WriteString(secretMask)
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// matchSecret returns where an encoding of secret that starts at s[i] ends, or -1. Each
// character of the text may be plain or escaped independently, and an escape may also be
// the secret's own characters ("%41" in a password), so the walk tries both readings,
// remembering the dead ends so that no text makes it slow.
func matchSecret(s, secret string, i int) int {
	type state struct{ i, j int }
	var dead map[state]bool
	// Until both readings fit somewhere, the walk is a single path that never comes back
	// to a state: nothing to remember, nothing to allocate.
	branched := false
	var walk func(i, j int) int
	walk = func(i, j int) int {
		if j == len(secret) {
			return i
		}
		if i == len(s) {
			if j >= min(minSecretTail, len(secret)) {
				return i
			}
			return -1
		}
		if dead[state{i, j}] {
			return -1
		}
		dec, n := unescapeAt(s, i)
		escaped, plain := n > 0 && strings.HasPrefix(secret[j:], dec), s[i] == secret[j]
		branched = branched || escaped && plain
		if escaped {
			if end := walk(i+n, j+len(dec)); end >= 0 {
				return end
			}
		}
		if plain {
			if end := walk(i+1, j+1); end >= 0 {
				return end
			}
		}
		if branched {
			if dead == nil {
				dead = map[state]bool{}
			}
			dead[state{i, j}] = true
		}
		return -1
	}
	return walk(i, 0)
}

// unescapeAt decodes the escape at s[i], if any: %XX, '+' for a space, \uXXXX (with
// surrogate pairs) and JSON's one-letter escapes. n is 0 when s[i] starts no escape.
func unescapeAt(s string, i int) (dec string, n int) {
	switch s[i] {
	case '+':
		return " ", 1
	case '%':
		if i+2 < len(s) {
			if h, ok := hexValue(s[i+1 : i+3]); ok {
				return string([]byte{byte(h)}), 3
			}
		}
	case '\\':
		if i+1 >= len(s) {
			return "", 0
		}
		switch c := s[i+1]; c {
		case '"', '\\', '/':
			return string(c), 2
		case 'b':
			return "\b", 2
		case 'f':
			return "\f", 2
		case 'n':
			return "\n", 2
		case 'r':
			return "\r", 2
		case 't':
			return "\t", 2
		case 'u':
			if i+6 > len(s) {
				return "", 0
			}
			r, ok := hexValue(s[i+2 : i+6])
			if !ok {
				return "", 0
			}
			if utf16.IsSurrogate(rune(r)) {
				if i+12 > len(s) || s[i+6] != '\\' || s[i+7] != 'u' {
					return "", 0
				}
				lo, ok := hexValue(s[i+8 : i+12])
				dec := utf16.DecodeRune(rune(r), rune(lo))
				if !ok || dec == utf8.RuneError {
					return "", 0
				}
				return string(dec), 12
			}
			return string(rune(r)), 6
		}
	}
	return "", 0
}

func hexValue(h string) (int, bool) {
	v := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// scrubbedError shows a scrubbed text but keeps the cause for errors.Is and errors.As.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubError masks secrets in an error that quotes the server's answer (a decode error
// quotes ids and times).
func (c *Client) scrubError(err error) error {
	if msg := c.Scrub(err.Error()); msg != err.Error() {
		return &scrubbedError{msg: msg, err: err}
	}
	return err
}
