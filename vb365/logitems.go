package vb365

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Log item types (RESTLogItem.type in v8; the bracketed word of the title in v6 and v7).
const (
	LogRunning = "Running"
	LogWarning = "Warning"
	LogError   = "Error"
	LogSuccess = "Success"
	LogStop    = "Stop"
)

var logTypes = []string{LogRunning, LogWarning, LogError, LogSuccess, LogStop}

// Bounds of one session's log. A Failed session's log is tens of items; these only stop a
// broken or hostile server: at most logPageLimit*maxLogPages items are read, the newest
// maxLogItems kept, each message cut to maxLogMessage, so one log holds at most about
// 20 MiB however long the server's is.
const (
	logPageLimit  = 1000
	maxLogPages   = 20
	maxLogItems   = 10000
	maxLogMessage = 2 << 10
	// maxLogEntry is the body budget of one item in a page: a generous bound for an item
	// whose message is cut to maxLogMessage anyway.
	maxLogEntry   = 8 << 10
	maxLogTypeLen = 32
	// MaxReasonBytes is the longest text ReasonMessage returns.
	MaxReasonBytes = 200
)

// LogItem is one entry of a data retrieval session's log (RESTLogItem).
type LogItem struct {
	ID string
	// USN is the server's order number of the item; it orders items created at the same time.
	USN int64
	// Type is Running, Warning, Error, Success or Stop; other values the server sends are
	// kept, cut short; empty when a v6/v7 title carries no known type.
	Type string
	// Message is scrubbed of the client's secrets and cut to 2 KiB on a UTF-8 boundary.
	Message      string
	CreationTime time.Time
	EndTime      time.Time
}

type wireLogItem struct {
	ID           string   `json:"id"`
	USN          int64    `json:"usn"`
	Type         string   `json:"type"`
	Message      string   `json:"message"`
	Title        string   `json:"title"`
	CreationTime *APITime `json:"creationTime"`
	EndTime      *APITime `json:"endTime"`
}

type logPage struct {
	items []LogItem
	// count is the number of entries on the page, decodable or not, for paging.
	count      int
	limit      int
	totalCount *int
}

// decodeLogPage parses PageOfRESTLogItem entry by entry, within ctx (see streamList).
// Entries that cannot be decoded are skipped: a broken item must not hide the others.
func decodeLogPage(ctx context.Context, body []byte, scrub func(string) string) (*logPage, error) {
	p := &logPage{}
	info, err := streamList(ctx, body, listSink[wireLogItem]{
		want: func() bool { return true },
		each: func(w *wireLogItem, err error) {
			if err == nil {
				p.items = append(p.items, w.toLogItem(scrub))
			}
		},
	})
	if err == nil && !info.paged {
		err = errNoResults
	}
	if err != nil {
		return nil, fmt.Errorf("decoding log page: %w", err)
	}
	p.count, p.limit, p.totalCount = info.count, info.limit, info.total
	return p, nil
}

// toLogItem reads v8's type and message, or v6/v7's title, which Veeam writes as
// "[Success] Job started at ...". The message is scrubbed before it is cut, so a secret
// across the cut cannot leave its first half behind.
func (w *wireLogItem) toLogItem(scrub func(string) string) LogItem {
	typ, msg := w.Type, w.Message
	if typ == "" && msg == "" && w.Title != "" {
		typ, msg = splitTitle(w.Title)
	}
	it := LogItem{
		ID:      strings.ToLower(shorten(w.ID, 64)),
		USN:     w.USN,
		Type:    canonicalLogType(typ),
		Message: shorten(scrub(msg), maxLogMessage),
	}
	if w.CreationTime != nil {
		it.CreationTime = w.CreationTime.Time
	}
	if w.EndTime != nil {
		it.EndTime = w.EndTime.Time
	}
	return it
}

// splitTitle takes the type from a "[Type] message" title; a title without a known type
// in brackets is all message.
func splitTitle(title string) (typ, msg string) {
	if strings.HasPrefix(title, "[") {
		if end := strings.IndexByte(title, ']'); end > 1 && end <= maxLogTypeLen {
			if t := canonicalLogType(title[1:end]); slices.Contains(logTypes, t) {
				return t, strings.TrimSpace(title[end+1:])
			}
		}
	}
	return "", title
}

func canonicalLogType(s string) string {
	for _, t := range logTypes {
		if strings.EqualFold(s, t) {
			return t
		}
	}
	// Session statuses say Failed where log items say Error; a title may use either.
	if strings.EqualFold(s, "Failed") {
		return LogError
	}
	return shorten(s, maxLogTypeLen)
}

// logBefore orders items oldest first: by creation time, then by the server's order number.
func logBefore(a, b *LogItem) bool {
	if !a.CreationTime.Equal(b.CreationTime) {
		return a.CreationTime.Before(b.CreationTime)
	}
	return a.USN < b.USN
}

// keepNewest sorts items oldest first and drops all but the newest maxLogItems.
func keepNewest(items []LogItem) []LogItem {
	sort.SliceStable(items, func(i, j int) bool { return logBefore(&items[i], &items[j]) })
	if len(items) > maxLogItems {
		items = append([]LogItem(nil), items[len(items)-maxLogItems:]...)
	}
	return items
}

// SessionLogItems reads the log of a data retrieval session, GET
// /vN/DataRetrievalSessions/{id}/LogItems, page by page within ctx, and returns it oldest
// first. A log longer than the bounds is cut, keeping its newest items, where a session's
// outcome is: v8 is asked for newest first (orderAsc=false); v6 and v7 document no order,
// so their items are sorted here whatever order they come in.
func (c *Client) SessionLogItems(ctx context.Context, sessionID ID) ([]LogItem, error) {
	return c.logItems(ctx, "/DataRetrievalSessions/"+url.PathEscape(string(sessionID))+"/LogItems")
}

// logItems reads the log at path (PageOfRESTLogItem), as SessionLogItems describes.
func (c *Client) logItems(ctx context.Context, path string) ([]LogItem, error) {
	// The scrubber is the client's today; the message is the server's text and may echo
	// anything, including what we sent it.
	scrub := func(s string) string { return c.scrub(s, "") }
	var items []LogItem
	seen := map[string]bool{}
	offset := 0
	for range maxLogPages {
		q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(logPageLimit)}}
		if c.version == "v8" {
			q.Set("orderAsc", "false")
		}
		body, err := c.get(ctx, "logitems", path, q, logPageLimit*maxLogEntry+maxErrorBody)
		if err != nil {
			return nil, err
		}
		p, err := decodeLogPage(ctx, body, scrub)
		if err != nil {
			return nil, &DecodeError{Endpoint: "logitems", Err: err}
		}
		for _, it := range p.items {
			// An item logged between two page reads shifts the rest by one; never keep one
			// twice.
			if it.ID != "" && seen[it.ID] {
				continue
			}
			seen[it.ID] = true
			items = append(items, it)
		}
		if len(items) > maxLogItems {
			items = keepNewest(items)
		}
		// A server may serve smaller pages than asked for; its own limit then says whether
		// a short page is the last one.
		pageLimit := logPageLimit
		if p.limit > 0 && p.limit < pageLimit {
			pageLimit = p.limit
		}
		offset += p.count
		if p.count == 0 || p.count < pageLimit || (p.totalCount != nil && offset >= *p.totalCount) {
			break
		}
	}
	return keepNewest(items), nil
}

// PickReason chooses the log item that says why a session ended as it did: for a Failed
// session its last Error (its last Warning when it has none), for a Warning session its last
// Warning (else its last Error). Other statuses have no reason. "Last" is by creation time
// and order number, whatever the order of items.
func PickReason(status string, items []LogItem) (LogItem, bool) {
	var want, fallback string
	switch status {
	case StatusFailed:
		want, fallback = LogError, LogWarning
	case StatusWarning:
		want, fallback = LogWarning, LogError
	default:
		return LogItem{}, false
	}
	if it, ok := lastOfType(items, want); ok {
		return it, true
	}
	return lastOfType(items, fallback)
}

func lastOfType(items []LogItem, typ string) (LogItem, bool) {
	var last *LogItem
	for i := range items {
		if items[i].Type == typ && (last == nil || !logBefore(&items[i], last)) {
			last = &items[i]
		}
	}
	if last == nil {
		return LogItem{}, false
	}
	return *last, true
}

// ReasonMessage makes a log message fit a label, an alert and a table cell: invalid UTF-8
// replaced, control characters turned into spaces, invisible format characters (zero-width,
// bidirectional overrides, which can make a page show something else than the text) dropped,
// whitespace collapsed, and cut to MaxReasonBytes on a UTF-8 boundary.
func ReasonMessage(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	return shorten(strings.Join(strings.Fields(s), " "), MaxReasonBytes)
}
