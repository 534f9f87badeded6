package vb365

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"strconv"
	"strings"
)

// MaxPageLimit is the largest page the API serves (PageOfRESTDataRetrievalSession.limit).
const MaxPageLimit = 10000

// defaultMaxPages bounds a list read that sets no bound of its own: a server whose paging
// never ends is an error, not a loop.
const defaultMaxPages = 1000

// ListAllSessions pages through GET /vN/DataRetrievalSessions until the server has no more,
// calling fn for each page as it arrives (so callers can stop early by returning an error).
// limit is the page size (MaxPageLimit when 0); maxPages guards against a server whose
// paging never ends (0 means 1,000 pages). A page holds at most limit sessions whatever the
// server sent, so what fn is handed is bounded by what was asked for.
//
// The end of the list is what the server says, not a guess from the page size: v6 and v7
// send totalCount; any version may send _links.next; and a page's own limit tells a page
// that the server cut to its own maximum from the last one. Only without any of these is a
// page shorter than asked the last one.
func (c *Client) ListAllSessions(ctx context.Context, retrievalID ID, limit, maxPages int, fn func(*Page) error) error {
	if limit <= 0 || limit > MaxPageLimit {
		limit = MaxPageLimit
	}
	if maxPages <= 0 {
		maxPages = defaultMaxPages
	}
	offset := 0
	for range maxPages {
		p, err := c.ListSessions(ctx, ListOptions{RetrievalID: retrievalID, Offset: offset, Limit: limit})
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		n := len(p.Sessions) + len(p.Invalid)
		offset += n
		if !c.morePages(n, limit, offset, p.Limit, p.TotalCount, p.Next) {
			return nil
		}
	}
	return fmt.Errorf("list: more than %d pages of %d sessions; stopped", maxPages, limit)
}

// Page is one page of the session list (PageOfRESTDataRetrievalSession).
type Page struct {
	Offset int
	Limit  int
	SetID  string
	// TotalCount is only sent by v6 and v7; nil otherwise.
	TotalCount *int
	// Next is the page's _links.next.href as sent; it is never requested.
	Next     string
	Sessions []Session
	// Invalid holds entries of the page that could not be decoded; they do not hide the others.
	Invalid []error
	// Skipped counts the entries the server sent beyond the limit asked for; they are not
	// decoded (the next page asks for them again).
	Skipped int
}

// decodePageFrom parses one page as it arrives, decoding at most keep entries (all when keep
// is 0).
func decodePageFrom(ctx context.Context, r io.Reader, keep int, m masks) (*Page, error) {
	p := &Page{}
	var bad []int // indexes of p.Invalid's entries, numbered once the offset is known
	i := 0
	info, err := streamFrom(ctx, r, listSink[wireSession]{
		want: func() bool { return keep <= 0 || i < keep },
		each: func(w *wireSession, err error) {
			if err == nil {
				var s Session
				if s, err = w.toSession(m); err == nil {
					p.Sessions = append(p.Sessions, s)
				}
			}
			if err != nil {
				p.Invalid = append(p.Invalid, err)
				bad = append(bad, i)
			}
			i++
		},
	})
	if err == nil && !info.paged {
		err = errNoResults
	}
	if err != nil {
		if errors.Is(err, errDeadline) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, fmt.Errorf("decoding session page: %w", err)
	}
	p.Offset, p.Limit, p.SetID, p.TotalCount, p.Next, p.Skipped = info.offset, info.limit, info.setID, info.total, info.next, info.skipped
	for j, err := range p.Invalid {
		p.Invalid[j] = fmt.Errorf("results[%d]: %w", info.offset+bad[j], err)
	}
	return p, nil
}

// ListStats is what a list read left out: entries that could not be decoded (Invalid),
// entries beyond the keep bound (Dropped: counted, not decoded), and whether the list had
// more pages than the read allows (Truncated).
type ListStats struct {
	Invalid, Dropped int
	Truncated        bool
}

// listQuery is one list of the API to read.
type listQuery struct {
	endpoint, path string
	query          url.Values
	// paged asks for pages (offset, limit) and follows them; otherwise the version answers
	// one bare array, and a page sent instead is read as the whole list.
	paged bool
	// limit is the page size (MaxPageLimit when 0); keep bounds the entries decoded (0: all,
	// when fn keeps only what it needs).
	limit, keep int
	// maxPages bounds the pages read: when set, a longer list is Truncated; when 0, more
	// than 1,000 pages is an error.
	maxPages int
}

// listAll is the one reader of "a list of W" from the API: bare arrays and pages, links and
// totals (morePages), entry-by-entry decoding within ctx (streamFrom), each answer under the
// size cap, and the bounds of lq. fn converts an entry with the secrets of its answer; an
// error makes it Invalid.
func listAll[W any](ctx context.Context, c *Client, lq listQuery, fn func(*W, masks) error) (ListStats, error) {
	var st ListStats
	limit, pages := lq.limit, lq.maxPages
	if limit <= 0 || limit > MaxPageLimit {
		limit = MaxPageLimit
	}
	if pages <= 0 {
		pages = defaultMaxPages
	}
	kept, offset := 0, 0
	for range pages {
		q, bodyCap := url.Values{}, int64(maxPageBody)
		maps.Copy(q, lq.query)
		if lq.paged {
			q.Set("offset", strconv.Itoa(offset))
			q.Set("limit", strconv.Itoa(limit))
			bodyCap = pageBodyCap(limit)
		}
		var info listInfo
		// The masks are made once the request has its token, so that they hold it.
		err := c.getStream(ctx, lq.endpoint, lq.path, q, bodyCap, func(r io.Reader) (err error) {
			if info, err = decodeAnswerFrom(ctx, r, lq.keep, &kept, &st, c.masks(), fn); err != nil {
				return listError(lq.endpoint, c.scrubError(err))
			}
			return nil
		})
		if err != nil {
			return st, err
		}
		offset += info.count
		if !lq.paged || !info.paged || !c.morePages(info.count, limit, offset, info.limit, info.total, info.next) {
			return st, nil
		}
	}
	if lq.maxPages > 0 {
		st.Truncated = true
		return st, nil
	}
	return st, fmt.Errorf("%s: more than %d pages of %d; stopped", lq.endpoint, pages, limit)
}

// decodeAnswer decodes one answer's entries into fn while fewer than keep were kept (and
// fewer than keep were broken, so that a flood of broken entries costs no more than a flood
// of good ones; keep 0 decodes all); the rest are counted in st.Dropped, not decoded.
func decodeAnswer[W any](ctx context.Context, body []byte, keep int, kept *int, st *ListStats, m masks, fn func(*W, masks) error) (listInfo, error) {
	return decodeAnswerFrom(ctx, bytes.NewReader(body), keep, kept, st, m, fn)
}

// decodeAnswerFrom is decodeAnswer reading the answer as it arrives (within the body
// budget, so that no list answer is held whole).
func decodeAnswerFrom[W any](ctx context.Context, r io.Reader, keep int, kept *int, st *ListStats, m masks, fn func(*W, masks) error) (listInfo, error) {
	info, err := streamFrom(ctx, r, listSink[W]{
		want: func() bool { return keep <= 0 || *kept < keep && st.Invalid < keep },
		each: func(w *W, err error) {
			if err == nil {
				err = fn(w, m)
			}
			if err != nil {
				st.Invalid++
			} else {
				*kept++
			}
		},
	})
	st.Dropped += info.skipped
	return info, err
}

// listKind reads a kind's list, GET /vN{path}: pages in v8, a bare array before. At most
// keep (which must be positive) entries are returned; the rest are counted in Dropped.
func listKind[W, T any](ctx context.Context, c *Client, endpoint, path string, keep int, conv func(*W, masks) (T, error)) ([]T, ListStats, error) {
	return listKindQuery(ctx, c, listQuery{endpoint: endpoint, path: path}, keep, conv)
}

// listKindQuery is listKind with lq's query, and pages in every version when lq says so.
func listKindQuery[W, T any](ctx context.Context, c *Client, lq listQuery, keep int, conv func(*W, masks) (T, error)) ([]T, ListStats, error) {
	if keep <= 0 {
		return nil, ListStats{}, errors.New(lq.endpoint + ": keep must be positive")
	}
	var out []T
	lq.paged, lq.keep = lq.paged || c.version == "v8", keep
	st, err := listAll(ctx, c, lq,
		func(w *W, m masks) error {
			t, err := conv(w, m)
			if err == nil {
				out = append(out, t)
			}
			return err
		})
	if err != nil {
		return nil, st, err
	}
	return out, st, nil
}

// getOne reads one object, GET /vN{path}, into w.
func getOne(ctx context.Context, c *Client, endpoint, path string, w any) error {
	body, err := c.get(ctx, endpoint, path, nil, maxSessionBody)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, w); err != nil {
		return &DecodeError{Endpoint: endpoint, Err: c.scrubError(err)}
	}
	return nil
}

// listError keeps the scrape deadline a deadline: it is not the server's malformed answer.
func listError(endpoint string, err error) error {
	if errors.Is(err, errDeadline) || errors.Is(err, context.Canceled) {
		return err
	}
	return &DecodeError{Endpoint: endpoint, Err: err}
}

// morePages decides whether another page follows one that held n entries (offset now
// counts them), asked with limit; pageLimit, total and next are what the page said.
func (c *Client) morePages(n, limit, offset, pageLimit int, total *int, next string) bool {
	switch {
	case n == 0:
		// Whatever the page claims, asking again from the same offset would loop.
		return false
	case total != nil:
		return offset < *total
	case c.sameOrigin(next):
		// The link only says that more follow; the next offset is what was read, so a link
		// can neither skip entries nor make the exporter go back.
		return true
	case pageLimit > 0 && pageLimit < limit:
		return n >= pageLimit
	}
	return n >= limit
}

// sameOrigin reports whether href (a page's _links.next) is relative or stays on the
// configured scheme, host and port. A link elsewhere is ignored: nothing is ever sent
// anywhere but the configured URL, and such a link says nothing trustworthy about this list.
func (c *Client) sameOrigin(href string) bool {
	if href == "" {
		return false
	}
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	if u.Scheme == "" && u.Host == "" {
		return true
	}
	return strings.EqualFold(u.Scheme, c.base.Scheme) && strings.EqualFold(u.Host, c.base.Host)
}

// listInfo is what a list answer says besides its entries.
type listInfo struct {
	// paged is true for a page object ({..., "results": [...]}), false for a bare array.
	paged  bool
	offset int
	limit  int
	setID  string
	total  *int
	// next is _links.next.href as sent; it is never requested.
	next string
	// count is every entry of the answer; skipped those the sink did not want.
	count, skipped int
}

// skipValue consumes one JSON value without keeping any of it.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// ctxCheckEvery is how many entries are decoded between two looks at the deadline: often
// enough that a list of a million entries stops within milliseconds of it.
const ctxCheckEvery = 64

// listSink receives the entries of a list answer. want is asked before each entry: when it
// says no, the entry is only counted, not decoded, so that what a caller keeps, and what
// decoding costs beyond the answer's bytes, follows what the caller wants, not what the
// server sent. each gets a decoded entry, or why it could not be decoded.
type listSink[W any] struct {
	want func() bool
	each func(w *W, err error)
}

// streamFrom decodes a list answer (a bare JSON array, or a page object whose results hold
// the entries) one entry at a time into a fresh W as it arrives, checking ctx between
// entries: what it holds is one entry and the decoder's read-ahead, not the answer.
func streamFrom[W any](ctx context.Context, r io.Reader, fn listSink[W]) (listInfo, error) {
	var info listInfo
	if ctx.Err() != nil {
		return info, deadlineError(ctx)
	}
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return info, err
	}
	switch tok {
	case json.Delim('['):
		if err := streamEntries(ctx, dec, &info, fn); err != nil {
			return info, err
		}
	case json.Delim('{'):
		info.paged = true
		if err := streamPage(ctx, dec, &info, fn); err != nil {
			return info, err
		}
	default:
		return info, errors.New("neither an array nor a page with results")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return info, errors.New("data after the end of the answer")
	}
	return info, nil
}

// streamPage reads the members of a page object; the opening brace is already read. Keys
// match case-insensitively and must not repeat, as encoding/json would read them into a
// struct but without its "last one wins", which would let a second results hide the first.
func streamPage[W any](ctx context.Context, dec *json.Decoder, info *listInfo, fn listSink[W]) error {
	seen := map[string]bool{}
	results := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		lk := strings.ToLower(key)
		switch lk {
		case "results", "offset", "limit", "setid", "totalcount", "_links":
			if seen[lk] {
				return fmt.Errorf("%q given twice", shorten(key, 32))
			}
			seen[lk] = true
		}
		switch lk {
		case "results":
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if tok == nil {
				continue // null: as if absent
			}
			if tok != json.Delim('[') {
				return errors.New("results is not an array")
			}
			results = true
			if err := streamEntries(ctx, dec, info, fn); err != nil {
				return err
			}
		case "offset":
			err = dec.Decode(&info.offset)
		case "limit":
			err = dec.Decode(&info.limit)
		case "setid":
			err = dec.Decode(&info.setID)
			info.setID = Cut(info.setID, maxIDBytes)
		case "totalcount":
			err = dec.Decode(&info.total)
		case "_links":
			var l struct {
				Next *struct {
					Href string `json:"href"`
				} `json:"next"`
			}
			// Only a hint: links of another shape are ignored, not an error.
			var typeErr *json.UnmarshalTypeError
			if err = dec.Decode(&l); errors.As(err, &typeErr) {
				err = nil
			} else if err == nil && l.Next != nil {
				info.next = l.Next.Href
			}
		default:
			err = dec.Decode(&skipValue{})
		}
		if err != nil {
			return fmt.Errorf("%s: %w", shorten(key, 32), err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	if !results {
		return errNoResults
	}
	return nil
}

var errNoResults = errors.New("no results field")

// streamEntries reads array elements up to the closing bracket; the opening one is read.
func streamEntries[W any](ctx context.Context, dec *json.Decoder, info *listInfo, fn listSink[W]) error {
	for dec.More() {
		if info.count%ctxCheckEvery == 0 && ctx.Err() != nil {
			return deadlineError(ctx)
		}
		info.count++
		if !fn.want() {
			info.skipped++
			if err := dec.Decode(&skipValue{}); err != nil {
				return err
			}
			continue
		}
		var w W
		err := dec.Decode(&w)
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return err // the answer is broken, not just this entry
		}
		fn.each(&w, err)
	}
	_, err := dec.Token() // the closing bracket
	return err
}
