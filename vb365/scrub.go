package vb365

import (
	"encoding/base64"
	"encoding/json"
	"math/bits"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// secretMask replaces a secret in text that came from the server.
const secretMask = "<secret>"

// pieceLen is the length of the pieces of a secret that are masked wherever they appear:
// any 8 bytes of the password or a token (8 characters in ASCII; fewer when wider, which
// masks more, not less). A shorter secret is masked only as a whole token, since its
// letters are everywhere in ordinary words.
const pieceLen = 8 // a power of two: the scan keeps its last bytes in a ring

// minSecretTail is how much of a secret's start, left at the very end of a text (a server
// that cut its echo), is masked too. Shorter tails are too likely to be ordinary text.
const minSecretTail = 4

// text is the one way a string from the server is made fit to show, in this order:
// normalised (invalid UTF-8 replaced, control characters made spaces, format characters
// such as U+200B or U+202E dropped, white space collapsed and trimmed), scrubbed of the
// secrets (see forms.mask) and cut to limit bytes with "…" (limit 0: not cut). Cutting last
// means that a cut cannot leave a secret's start behind. A string far longer than limit (a
// megabyte "status") is first shortened to 4*limit+256 bytes, so that its cost is bounded
// by what is kept: that cannot show a secret either, since a piece of one is masked
// wherever a cut leaves it, and a start of one at the end by the tail rule.
func (m masks) text(s string, limit int) string {
	if limit > 0 && len(s) > 4*limit+256 {
		s = Cut(s, 4*limit+256)
	}
	s = m.f.mask(normalise(s))
	if limit > 0 {
		s = shorten(s, limit)
	}
	return s
}

// id is text for an ID: bounded like one and lower case, as IDs are kept (see ID).
func (m masks) id(id ID) ID { return ID(strings.ToLower(m.text(string(id), maxIDBytes))) }

// Scrub normalises s and masks the password and the client's current access and refresh
// tokens in it; see masks.text. Any text from the server that reaches a log, a page or a
// metric goes through it.
func (c *Client) Scrub(s string) string { return c.scrub(s, "") }

// scrub also masks sent, the token the request carried, which may already be dropped.
func (c *Client) scrub(s, sent string) string {
	if s == "" {
		return s
	}
	return masks{c.forms(sent)}.text(s, 0)
}

// masks are the secrets' forms for one answer, read once for all of its entries.
type masks struct{ f *forms }

func (c *Client) masks() masks { return masks{c.forms("")} }

// forms returns the forms of the client's secrets, made again only when one changed
// (a new token, a password_file reloaded).
func (c *Client) forms(sent string) *forms {
	pw := c.password()
	c.mu.Lock()
	defer c.mu.Unlock()
	var access, refresh string
	if c.token != nil {
		access, refresh = c.token.access, c.token.refresh
	}
	if sent == access || sent == refresh {
		sent = ""
	}
	key := [4]string{pw, access, refresh, sent}
	if f := c.secretForms; f != nil && f.key == key {
		return f
	}
	f := newForms(c.username, pw, access, refresh, sent)
	f.key = key
	if sent == "" { // a dropped token is only met on an error path: not worth keeping
		c.secretForms = f
	}
	return f
}

// session masks secrets in a session's texts, which become labels and log fields: a server
// is trusted with its own data only, not with making the exporter publish ours. Its ID is
// made by entryID.
func (m masks) session(s *Session) {
	s.RetrievalID = m.id(s.RetrievalID)
	s.Name = m.text(s.Name, MaxNameBytes)
	s.Type = strings.TrimRight(m.text(s.Type, MaxEnumBytes), ",") // v6's document lists the type with a stray comma
	s.Status = m.text(s.Status, MaxEnumBytes)
}

// retrieval does for a data retrieval what session does for a session.
func (m masks) retrieval(r *Retrieval) {
	r.Name = m.text(r.Name, MaxNameBytes)
	for _, f := range []*string{&r.Type, &r.DataState, &r.LastStatus} {
		*f = m.text(*f, MaxEnumBytes)
	}
}

// normalise makes s one line of visible text: invalid UTF-8 replaced, control characters
// turned into spaces, format characters (Cf: zero-width, bidirectional overrides and
// isolates, byte order marks, which can make one name look like another) dropped, white
// space collapsed and trimmed. Text that needs none of it is returned as is.
func normalise(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		clean = c > ' ' && c < 0x7f || c == ' ' && i > 0 && i < len(s)-1 && s[i+1] != ' '
	}
	if clean {
		return s
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Join(strings.Fields(s), " ")
}

// forms are what a set of secrets looks like in a text, made once per set (Client.forms):
// the folded 8-byte pieces of every long form in a hash set, the short forms, and the
// edges of each. The forms of the password are the password itself, normalised as texts
// are (so a password with a double space is found in collapsed text), and the base64 of
// the password and of "username:password" in the standard and URL alphabets, padded or
// not; a token's form is the token; each of these also query-, path- and JSON-escaped.
// All are compared case-insensitively.
type forms struct {
	key    [4]string
	pieces []uint64 // open addressing; 0 is empty (a text holds no NUL: normalised)
	shift  uint
	short  []prefix // forms shorter than pieceLen: masked as whole tokens
	// heads and ends are a form's first and last minSecretTail to pieceLen-1 bytes: a text
	// that ends with a secret's start, or starts with its end, is masked there (the edge
	// rules). A server that cut its echo leaves such an edge, and so does a secret split
	// over two log items: each item's part is masked down to fewer than minSecretTail
	// bytes, whatever is shown beside it, with no need to know its neighbours.
	heads, ends []prefix
}

// prefix is n folded bytes packed into a uint64, last byte lowest, as the scan keeps them.
type prefix struct {
	key   uint64
	n     int
	token bool // must start a token: preceded by no letter or digit
}

func newForms(username, password string, tokens ...string) *forms {
	var list []string
	if password != "" {
		list = append(list, password)
		for _, s := range []string{password, username + ":" + password} {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				e := enc.EncodeToString([]byte(s))
				list = append(list, e, strings.TrimRight(e, "="))
			}
		}
	}
	list = append(list, tokens...)
	f := &forms{}
	set := map[uint64]bool{}
	for _, s := range list {
		// A form sends a space as '+', which the decoded stream keeps (it may be the
		// secret's own '+', or a '+' of base64): so a secret with a space has that form
		// too, as sent and collapsed. The usual escapes are forms too, so that they are
		// found whatever text they touch: the decoded streams read escapes one way only,
		// and a '%' just before an echo ("%" + "41…") may start another reading.
		js, _ := json.Marshal(s)
		list = append(list, url.QueryEscape(s), url.PathEscape(s), string(js[1:len(js)-1]))
		if strings.Contains(s, " ") {
			list = append(list, strings.ReplaceAll(s, " ", "+"), strings.ReplaceAll(normalise(s), " ", "+"))
		}
	}
	for _, s := range list {
		b := fold(nil, normalise(s))
		if len(b) < pieceLen {
			if len(b) > 0 {
				f.short = append(f.short, pack(b, true))
			}
			for n := minSecretTail; n < len(b); n++ {
				f.heads = append(f.heads, pack(b[:n], true))
				f.ends = append(f.ends, pack(b[len(b)-n:], true))
			}
			continue
		}
		for i := 0; i+pieceLen <= len(b); i++ {
			set[pack(b[i:i+pieceLen], false).key] = true
		}
		for n := minSecretTail; n < pieceLen; n++ {
			f.heads = append(f.heads, pack(b[:n], false))
			f.ends = append(f.ends, pack(b[len(b)-n:], false))
		}
	}
	size := 16
	for size < 2*len(set) {
		size *= 2
	}
	f.pieces = make([]uint64, size)
	f.shift = uint(64 - bits.TrailingZeros(uint(size)))
	for k := range set {
		i := f.slot(k)
		for f.pieces[i] != 0 {
			i = (i + 1) & (len(f.pieces) - 1)
		}
		f.pieces[i] = k
	}
	return f
}

func pack(b []byte, token bool) prefix {
	p := prefix{n: len(b), token: token}
	for _, c := range b {
		p.key = p.key<<8 | uint64(c)
	}
	return p
}

func (f *forms) slot(k uint64) int { return int((k * 0x9E3779B97F4A7C15) >> f.shift) }

func (f *forms) has(k uint64) bool {
	for i := f.slot(k); ; i = (i + 1) & (len(f.pieces) - 1) {
		switch f.pieces[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// fold appends s folded to lower case rune by rune, keeping each rune's length (a rune
// whose lower case has another length is kept), so that a byte of the folded text is the
// byte of the text at the same offset.
func fold(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, lower(c))
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		dst = appendFolded(dst, r, s[i:i+n])
		i += n
	}
	return dst
}

func appendFolded(dst []byte, r rune, raw string) []byte {
	if l := unicode.ToLower(r); l != r && utf8.RuneLen(l) == len(raw) {
		return utf8.AppendRune(dst, l)
	}
	return append(dst, raw...)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z'
}

// span is a part of a text to mask, [start, end) in bytes.
type span struct{ start, end int }

// spans collects what to mask, merging as it goes: the scans find a secret's pieces in
// order, so a long echo is one span, whatever its length.
type spans []span

func (sp *spans) add(start, end int) {
	if n := len(*sp); n > 0 {
		if l := &(*sp)[n-1]; start >= l.start && start <= l.end {
			l.end = max(l.end, end)
			return
		}
	}
	*sp = append(*sp, span{start, end})
}

// stream is one reading of a text, fed byte by byte (folded): the text as it is, or the
// text with its percent and JSON escapes decoded. It keeps its last eight bytes in key and
// where in the text each came from.
type stream struct {
	f       *forms
	key     uint64
	n       int
	starts  [pieceLen]int
	end     int
	pending []span // whole-token matches waiting to see the byte after them
	// space is set after a space, so that decoded white space collapses as the text's has.
	space bool
}

func (st *stream) feed(c byte, start, end int, out *spans) {
	st.key = st.key<<8 | uint64(c)
	st.starts[st.n&(pieceLen-1)] = start
	st.n++
	st.end, st.space = end, c == ' '
	if st.n >= pieceLen && st.f.has(st.key) {
		out.add(st.starts[(st.n-pieceLen)&(pieceLen-1)], end)
	}
	if len(st.pending) > 0 || len(st.f.short) > 0 || st.n < pieceLen {
		st.tokens(c, end, out)
	}
}

// tokens is the rarer part of feed: whole tokens (short forms, which need the byte after
// them), and a text that starts with a secret's end.
func (st *stream) tokens(c byte, end int, out *spans) {
	for _, p := range st.pending { // they wait for c
		if !isWordByte(c) {
			out.add(p.start, p.end)
		}
	}
	st.pending = st.pending[:0]
	if st.n < pieceLen {
		for _, e := range st.f.ends {
			if e.n == st.n && e.key == st.key {
				st.pending = append(st.pending, span{st.starts[0], end})
			}
		}
	}
	for _, p := range st.f.short {
		if st.matches(p) {
			st.pending = append(st.pending, span{st.starts[(st.n-p.n)&(pieceLen-1)], end})
		}
	}
}

// matches reports whether the last bytes fed are p, and, for a token, start one.
func (st *stream) matches(p prefix) bool {
	if st.n < p.n || st.key&(1<<(8*p.n)-1) != p.key {
		return false
	}
	return !p.token || st.n == p.n || !isWordByte(byte(st.key>>(8*p.n)))
}

// finish applies what only the end of the text decides: pending whole tokens, and a
// secret's start left at the very end (a server that cut its echo).
func (st *stream) finish(out *spans) {
	for _, p := range st.pending {
		out.add(p.start, p.end)
	}
	for _, h := range st.f.heads {
		if st.matches(h) {
			out.add(st.starts[(st.n-h.n)&(pieceLen-1)], st.end)
		}
	}
}

// find returns the spans of s (normalised) that hold a form of a secret. It reads s once,
// as three streams: as it is, with its percent escapes decoded, and with its JSON escapes
// decoded (see decodeAt); each decoding alone, since an echo escapes one way, and the
// secret may hold what looks like the other's escapes ("%41", "\\u0041"). In a decoded
// stream decoded white space collapses and decoded format characters drop, as normalise
// does; a '+' stays a '+' (see newForms).
// Each byte costs a few operations and one hash lookup whatever the text, with no
// backtracking: a text full of near-copies of a secret costs what any text of its length
// does.
func (f *forms) find(s string) spans {
	var out spans
	plain := &stream{f: f}
	decs := [2]decoder{{esc: '%'}, {esc: '\\'}}
	for k := range decs {
		decs[k].diverged = pieceLen + 1
	}
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(s); {
		c := s[i]
		if c == '%' || c == '\\' {
			for k := range decs {
				if d := &decs[k]; i >= d.next && c == d.esc {
					d.escape(s, i, plain, &out)
				}
			}
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			for _, c := range appendFolded(buf[:0], r, s[i:i+n]) {
				plain.feed(c, i, i+n, &out)
				for k := range decs {
					if d := &decs[k]; d.diverged <= pieceLen && i >= d.next {
						d.mirror(c, i, i+n, &out)
					}
				}
			}
			i += n
			continue
		}
		c = lower(c)
		plain.feed(c, i, i+1, &out)
		if decs[0].diverged <= pieceLen || decs[1].diverged <= pieceLen {
			for k := range decs {
				if d := &decs[k]; d.diverged <= pieceLen && i >= d.next {
					d.mirror(c, i, i+1, &out)
				}
			}
		}
		i++
	}
	plain.finish(&out)
	for k := range decs {
		if decs[k].diverged <= pieceLen {
			decs[k].st.finish(&out)
		}
	}
	return out
}

// decoder is the stream of s with one kind of escape decoded. Where nothing was decoded
// for pieceLen+1 bytes, it equals the plain stream and is not fed; it starts again from a
// copy of the plain one at its next escape, so a text without escapes costs one stream.
type decoder struct {
	esc      byte
	st       stream
	diverged int // bytes fed since the stream last differed from the plain one
	next     int // where it reads on: the end of its last escape
}

func (d *decoder) escape(s string, i int, plain *stream, out *spans) {
	r, m := decodeAt(s, i)
	if m == 0 {
		return
	}
	if d.diverged > pieceLen {
		d.st = *plain
		d.st.pending = nil
	}
	d.st.feedDecoded(r, i, i+m, out)
	d.diverged, d.next = 0, i+m
}

func (d *decoder) mirror(c byte, start, end int, out *spans) {
	if d.st.space && c == ' ' {
		d.diverged = 0
		return
	}
	d.st.feed(c, start, end, out)
	d.diverged++
}

// feedDecoded feeds a decoded character: white space and control characters as one space
// (none after a space), format characters not at all, a byte that is no character (%FF)
// as it is.
func (st *stream) feedDecoded(r rune, start, end int, out *spans) {
	switch {
	case r < 0: // a raw byte
		st.feed(byte(-r), start, end, out)
	case r > ' ' && r < 0x7f:
		st.feed(lower(byte(r)), start, end, out)
	case unicode.Is(unicode.Cf, r):
	case r < utf8.RuneSelf || unicode.IsSpace(r) || unicode.IsControl(r):
		if !st.space {
			st.feed(' ', start, end, out)
		}
	default:
		var raw, buf [utf8.UTFMax]byte
		for _, c := range appendFolded(buf[:0], r, string(utf8.AppendRune(raw[:0], r))) {
			st.feed(c, start, end, out)
		}
	}
}

// decodeAt decodes the escape at s[i]: %XX, with a run of them that spells one UTF-8
// character read as that character; \uXXXX (with surrogate pairs) and
// JSON's one-letter escapes. A %XX that is no character is returned as -byte. m is 0 when
// s[i] starts no escape.
func decodeAt(s string, i int) (r rune, m int) {
	if s[i] == '%' && i+2 < len(s) {
		if h, ok := hexValue(s[i+1 : i+3]); ok && h < utf8.RuneSelf {
			return rune(h), 3 // the common case, kept short
		}
	}
	dec, n := unescapeAt(s, i)
	if n == 0 {
		return 0, 0
	}
	if s[i] != '%' || dec[0] < utf8.RuneSelf {
		r, _ := utf8.DecodeRuneInString(dec)
		return r, n
	}
	var b [utf8.UTFMax]byte
	k := 0
	for j := i; k < len(b) && j < len(s) && s[j] == '%'; j += 3 {
		d, n := unescapeAt(s, j)
		if n != 3 {
			break
		}
		b[k] = d[0]
		k++
		if utf8.FullRune(b[:k]) {
			if r, size := utf8.DecodeRune(b[:k]); r != utf8.RuneError && size == k {
				return r, 3 * k
			}
			break
		}
	}
	return -rune(dec[0]), 3
}

// splitReach is how much of each side split scans: a piece of a secret, escaped (a
// character as \uXXXX\uXXXX is 12 bytes), with room to spare.
const splitReach = 16 * pieceLen

// split masks a secret whose start ends a and whose end starts b (see masks.splits): a
// match in the end of a and the start of b read as one text.
func (f *forms) split(a, b string) (string, string) {
	if a == "" || b == "" {
		return a, b
	}
	from, to := len(a)-min(len(a), splitReach), min(len(b), splitReach)
	for from > 0 && !utf8.RuneStart(a[from]) {
		from--
	}
	for to < len(b) && !utf8.RuneStart(b[to]) {
		to++
	}
	cutA, cutB := len(a), 0
	for _, sep := range []string{"", " "} {
		mid := len(a) - from + len(sep)
		for _, p := range f.find(a[from:] + sep + b[:to]) {
			if p.start < len(a)-from && p.end > mid {
				cutA, cutB = min(cutA, from+p.start), max(cutB, p.end-mid)
			}
		}
	}
	if cutA < len(a) {
		a, b = a[:cutA]+secretMask, secretMask+b[cutB:]
	}
	return a, b
}

// mask replaces the spans of s that hold a form of a secret by secretMask, each widened to
// whole characters.
func (f *forms) mask(s string) string {
	if f == nil || s == "" {
		return s
	}
	return replaceSpans(s, f.find(s))
}

func replaceSpans(s string, sp spans) string {
	if len(sp) == 0 {
		return s
	}
	slices.SortFunc(sp, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	last, masked := 0, false
	for _, p := range sp {
		for p.start > 0 && !utf8.RuneStart(s[p.start]) {
			p.start--
		}
		for p.end < len(s) && !utf8.RuneStart(s[p.end]) {
			p.end++
		}
		// A space at either end of a piece ("…: qz9-kp2!") tells nothing: it stays.
		if p.end-p.start > 1 && s[p.start] == ' ' {
			p.start++
		}
		if p.end-p.start > 1 && s[p.end-1] == ' ' {
			p.end--
		}
		if masked && p.start <= last {
			last = max(last, p.end) // overlaps the previous span: one mask for both
			continue
		}
		b.WriteString(s[last:p.start])
		b.WriteString(secretMask)
		last, masked = p.end, true
	}
	b.WriteString(s[last:])
	return b.String()
}

// unescapeAt decodes the escape at s[i], if any: %XX, \uXXXX (with
// surrogate pairs) and JSON's one-letter escapes. n is 0 when s[i] starts no escape.
func unescapeAt(s string, i int) (dec string, n int) {
	switch s[i] {
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
