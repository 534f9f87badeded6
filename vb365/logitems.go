package vb365

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

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

// wireLogItem is named like the other wire types (see wireJob).
type wireLogItem struct {
	ID, Type, Message, Title string
	USN                      int64
	CreationTime, EndTime    *APITime
}

// toLogItem reads v8's type and message, or v6/v7's title, which Veeam writes as
// "[Success] Job started at ...". Its texts go through masks.text: scrubbed before cut, so
// a secret across the cut cannot leave its first half behind.
func (w *wireLogItem) toLogItem(m masks) LogItem {
	typ, msg := w.Type, w.Message
	if typ == "" && msg == "" && w.Title != "" {
		typ, msg = splitTitle(w.Title)
	}
	return LogItem{
		ID:           string(m.id(answerID(w.ID))),
		USN:          w.USN,
		Type:         canonicalLogType(m.text(typ, 0)),
		Message:      m.text(msg, maxLogMessage),
		CreationTime: w.CreationTime.value(),
		EndTime:      w.EndTime.value(),
	}
}

// splitTitle takes the type from a "[Type] message" title; a title without a known type
// in brackets is all message.
func splitTitle(title string) (typ, msg string) {
	if strings.HasPrefix(title, "[") {
		if end := strings.IndexByte(title, ']'); end > 1 && end <= maxLogTypeLen {
			if t := canonicalLogType(title[1:end]); slices.Contains(LogTypes, t) {
				return t, strings.TrimSpace(title[end+1:])
			}
		}
	}
	return "", title
}

func canonicalLogType(s string) string {
	for _, t := range LogTypes {
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

// SessionLogPath is the path of a data retrieval session's log, for ReadLog.
func SessionLogPath(id ID) string {
	return "/DataRetrievalSessions/" + url.PathEscape(string(id)) + "/LogItems"
}

// JobSessionLogPath is the path of a job session's log, for ReadLog.
func JobSessionLogPath(id ID) string {
	return "/JobSessions/" + url.PathEscape(string(id)) + "/LogItems"
}

// LogItems reads the log at path (SessionLogPath, JobSessionLogPath) whole
// (PageOfRESTLogItem), page by page within ctx, and returns it oldest first. A log longer
// than the bounds is cut, keeping its newest items, where a session's outcome is: v8 is
// asked for newest first (orderAsc=false); v6 and v7 document no order, so their items are
// sorted here whatever order they come in.
func (c *Client) LogItems(ctx context.Context, path string) ([]LogItem, error) {
	var items []LogItem
	seen := map[string]bool{}
	err := c.readLog(ctx, path, &LogProgress{}, func(page []LogItem) {
		for _, it := range page {
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
	})
	if err != nil {
		return nil, err
	}
	items = keepNewest(items)
	c.masks().splits(items)
	return items, nil
}

// LogProgress is how far a log has been read and what it said so far: never its items,
// only the summary. A read that stopped (the deadline, a failed page) goes on from here.
type LogProgress struct {
	// Offset is where the next page starts; Pages counts the pages read.
	Offset, Pages int
	// Done is set once the log has been read to its end or to the bounds.
	Done bool
	// Cut is set when the log was longer than the bounds: the items beyond them were
	// counted by the decoder, never decoded nor kept.
	Cut     bool
	Summary LogSummary
}

// ReadLog reads the log at path (below /vN: SessionLogPath, JobSessionLogPath) into p's
// summary, from where p stands, page by page within ctx. Each page is decoded as it
// arrives, and only its first logPageLimit entries (the page asked for) are decoded; a
// page counts once it has been read whole, so that an error or the deadline leaves p where
// a later call goes on. At most maxLogPages pages are read in all.
func (c *Client) ReadLog(ctx context.Context, path string, p *LogProgress) error {
	return c.readLog(ctx, path, p, nil)
}

// readLog is ReadLog, also handing each page's items to keep when it is set.
func (c *Client) readLog(ctx context.Context, path string, p *LogProgress, keep func([]LogItem)) error {
	for !p.Done {
		if p.Pages >= maxLogPages {
			p.Done, p.Cut = true, true
			break
		}
		q := url.Values{"offset": {strconv.Itoa(p.Offset)}, "limit": {strconv.Itoa(logPageLimit)}}
		if c.version == "v8" {
			q.Set("orderAsc", "false")
		}
		var page LogSummary
		var items []LogItem
		var info listInfo
		err := c.getStream(ctx, "logitems", path, q, logPageLimit*maxLogEntry+maxErrorBody, func(r io.Reader) (err error) {
			decoded := 0
			// The message is the server's text and may echo anything, including what we
			// sent it: the secrets are read once the request is made.
			m := c.masks()
			info, err = streamFrom(ctx, r, listSink[wireLogItem]{
				want: func() bool { decoded++; return decoded <= logPageLimit },
				// Entries that cannot be decoded are skipped: a broken item must not hide
				// the others.
				each: func(w *wireLogItem, err error) {
					if err != nil {
						return
					}
					it := w.toLogItem(m)
					page.add(it)
					if keep != nil {
						items = append(items, it)
					}
				},
			})
			if err == nil && !info.paged {
				err = errNoResults
			}
			if err != nil {
				return listError("logitems", c.scrubError(fmt.Errorf("decoding log page: %w", err)))
			}
			return nil
		})
		if err != nil {
			return err
		}
		p.Summary.merge(&page)
		if keep != nil {
			keep(items)
		}
		p.Pages++
		p.Offset += info.count
		// A server that sends more than was asked for is not paged further: what it says
		// of its pages is not to be trusted, and the log is cut either way.
		p.Cut = p.Cut || info.skipped > 0
		p.Done = info.skipped > 0 || !c.morePages(info.count, logPageLimit, p.Offset, info.limit, info.total, info.next)
	}
	return nil
}

// LogSummary is what the server keeps of a log: counts and the few items that may say why
// its session ended, never the items themselves. An item is counted by its type; one
// without a known type (v6 and v7 write only a title, which need not start with
// "[Type]") by its words (inferType).
type LogSummary struct {
	Items, Errors, Warnings int
	// last is the log's last item; top holds the last two Error (0) and Warning (1) items.
	last *LogItem
	top  [2][2]*LogItem
}

var reasonTypes = [2]string{LogError, LogWarning}

func (s *LogSummary) add(it LogItem) {
	s.Items++
	s.place(&it, reasonType(&it))
}

func (s *LogSummary) place(it *LogItem, typ string) {
	if s.last == nil || !logBefore(it, s.last) {
		s.last = it
	}
	k := slices.Index(reasonTypes[:], typ)
	if k < 0 {
		return
	}
	if k == 0 {
		s.Errors++
	} else {
		s.Warnings++
	}
	top := &s.top[k]
	switch {
	case top[0] == nil || !logBefore(it, top[0]):
		top[1], top[0] = top[0], it
	case top[1] == nil || !logBefore(it, top[1]):
		top[1] = it
	}
}

// merge adds what o summarises (a page of the same log) to s.
func (s *LogSummary) merge(o *LogSummary) {
	errs, warns := s.Errors, s.Warnings
	for k := range reasonTypes {
		for i := len(o.top[k]) - 1; i >= 0; i-- {
			if it := o.top[k][i]; it != nil {
				s.place(it, reasonTypes[k])
			}
		}
	}
	if o.last != nil && (s.last == nil || !logBefore(o.last, s.last)) {
		s.last = o.last
	}
	s.Items += o.Items
	s.Errors, s.Warnings = errs+o.Errors, warns+o.Warnings
}

// reasonType is the item's type when the server gave a known one, else what its words say.
func reasonType(it *LogItem) string {
	if slices.Contains(LogTypes, it.Type) {
		return it.Type
	}
	return inferType(it.Message)
}

// inferType reads an item without a type: Error when a word says error, failure or
// exception, else Warning when one says warning, unless "0", "no" or "without" comes
// right before it ("completed with 0 errors").
func inferType(msg string) string {
	typ, prev := "", ""
	for _, w := range strings.FieldsFunc(strings.ToLower(msg), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		negated := prev == "0" || prev == "no" || prev == "without"
		prev = w
		switch {
		case negated:
		case slices.Contains(errorWords, w):
			return LogError
		case w == "warning" || w == "warnings":
			typ = LogWarning
		}
	}
	return typ
}

var errorWords = []string{"error", "errors", "failed", "fail", "fails", "failure", "exception"}

// Reason chooses the item that says why a session ended as it did: for a Failed session
// its last Error (its last Warning when it has none), for a Warning session its last
// Warning (else its last Error). Other statuses have no reason. "Last" is by creation time
// and order number, whatever the order of items. An item typed only by its words that is
// the log's last is usually the closing line ("Job finished with error"): the one of its
// kind before it, which says what went wrong, is chosen when there is one. The item's
// Type is the one it was counted as.
func (s *LogSummary) Reason(status string) (LogItem, bool) {
	order := reasonTypes
	switch status {
	case StatusFailed:
	case StatusWarning:
		order[0], order[1] = order[1], order[0]
	default:
		return LogItem{}, false
	}
	for _, typ := range order {
		top := s.top[slices.Index(reasonTypes[:], typ)]
		it := top[0]
		if it == nil {
			continue
		}
		if it.Type != typ && top[1] != nil && sameItem(it, s.last) {
			it = top[1]
		}
		why := *it
		why.Type = typ
		return why, true
	}
	return LogItem{}, false
}

func sameItem(a, b *LogItem) bool {
	return a == b || b != nil && a.ID != "" && a.ID == b.ID && a.USN == b.USN
}

// ReasonMessage makes a log message (already scrubbed by the client, and so normalised)
// fit a label, an alert and a table cell: normalised again, for any other caller, and cut
// to MaxReasonBytes on a UTF-8 boundary. See masks.text.
func ReasonMessage(s string) string { return masks{}.text(s, MaxReasonBytes) }

// splits masks a secret split across two consecutive log items of a log held whole, as
// `sessions log` shows it ("... password Wx7" and "Qz9-Kp2!m ..."): the end of each message
// and the start of the next are scanned as one text, joined with no space and with one (a
// split at a space), and a match that spans both masks its part in each. Consecutive is in
// the log's order, oldest first, the order every output shows. A reason, shown alone, needs
// no neighbour: its part of a split secret is masked by the edge rules of forms.find.
func (m masks) splits(items []LogItem) {
	if m.f == nil {
		return
	}
	for i := 1; i < len(items); i++ {
		items[i-1].Message, items[i].Message = m.f.split(items[i-1].Message, items[i].Message)
	}
}
