package simulator

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EndpointLogItems is GET /vN/DataRetrievalSessions/{id}/LogItems, for Stats and Fault.Endpoint.
const EndpointLogItems = "logitems"

// Fault kinds of a LogItems endpoint that tries to exhaust the client's memory.
const (
	// FaultLogFlood answers one page of Entries (default 150,000) Error items whose
	// messages are Bytes (default 1) bytes, whatever limit was asked: the whole log.
	FaultLogFlood = "logflood"
	// FaultLogEndless answers full pages that never end: Entries (default 1,000) Error
	// items of Bytes (default 7,000) bytes a page, each page promising more through
	// totalCount and _links.next. With Status, every page after the first answers that
	// status instead: a log whose second page always fails.
	FaultLogEndless = "logendless"
)

// LogItem is one entry of a session's log (RESTLogItem).
type LogItem struct {
	// ID is a UUID; SetLogItems makes one up when empty.
	ID string
	// USN is the item's order number; SetLogItems numbers items from 1 in the order given
	// when it is 0.
	USN     int64
	Type    string // Running, Warning, Error, Success or Stop
	Message string
	// CreationTime is required. Items created after the simulator's now are not served yet,
	// so the log of a running session grows with the clock.
	CreationTime time.Time
	// EndTime defaults to CreationTime.
	EndTime time.Time
}

// SetLogItems replaces the log of a session. The log lives as long as the session: removing
// or replacing the session drops it.
func (s *Simulator) SetLogItems(sessionID string, items []LogItem) error {
	log, err := completeLog(items)
	if err != nil {
		return err
	}
	if log == nil {
		log = []LogItem{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[normID(sessionID)]
	if !ok {
		return fmt.Errorf("session %s not found", sessionID)
	}
	sess.log = log
	return nil
}

// LogItems returns a copy of a session's log as set, whatever the clock.
func (s *Simulator) LogItems(sessionID string) ([]LogItem, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[normID(sessionID)]
	if !ok {
		return nil, false
	}
	return append([]LogItem(nil), sess.log...), true
}

// logItemJSON follows each version's RESTLogItem: v8 has type and message; v6 and v7 only a
// title, which Veeam documents as "status and short description" and writes as
// "[Success] Job started at ...". base is the session's path, owner its link name.
func logItemJSON(ver, base, owner string, it *LogItem) object {
	o := object{{"id", it.ID}, {"usn", it.USN}}
	if ver == "v8" {
		o = append(o, field{"type", it.Type}, field{"message", it.Message})
	} else {
		o = append(o, field{"title", "[" + it.Type + "] " + it.Message})
	}
	return append(o,
		field{"creationTime", formatTime(it.CreationTime)},
		field{"endTime", formatTime(it.EndTime)},
		field{"_links", links("self", base+"/LogItems/"+it.ID, owner, base)},
	)
}

// serveLogItems answers GET /vN/DataRetrievalSessions/{id}/LogItems?offset=&limit=[&orderAsc=].
func (s *Simulator) serveLogItems(w http.ResponseWriter, r *http.Request, rt route, now time.Time) {
	s.serveLog(w, r, rt, now, logKind{"DataRetrievalSessions", "dataRetrievalSession", "Data retrieval session", false},
		func(id string) ([]LogItem, bool) {
			sess, ok := s.sessions[id]
			if !ok {
				return nil, false
			}
			return sess.log, true
		})
}

// logKind says whose log is served: the collection's path, the owner's link name and what
// a 404 calls it, and whether v8 documents the type filter.
type logKind struct {
	path, owner, name string
	typeFilter        bool
}

// serveLog answers a session's LogItems. v8 orders by creation time (then usn) as orderAsc
// says, ascending by default. v6 and v7 document no order; the simulator serves them newest
// first so that a client relying on an order it was not promised is caught. lookup runs
// under the simulator's lock.
func (s *Simulator) serveLog(w http.ResponseWriter, r *http.Request, rt route, now time.Time, kind logKind, lookup func(id string) ([]LogItem, bool)) {
	if !isUUID(rt.id) {
		writeError(w, rt.ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for sessionId.", rt.id))
		return
	}
	q := r.URL.Query()
	offset, limit, err := paging(q)
	if err != nil {
		writeError(w, rt.ver, http.StatusBadRequest, codeValidation, err.Error())
		return
	}
	asc, typ := rt.ver == "v8", ""
	if v := q.Get("orderAsc"); v != "" && rt.ver == "v8" {
		// ASP.NET binds booleans as bool.TryParse does (true/false in any case); v6 and v7
		// ignore the parameter they do not know.
		switch strings.ToLower(v) {
		case "true":
			asc = true
		case "false":
			asc = false
		default:
			writeError(w, rt.ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for orderAsc.", v))
			return
		}
	}
	if v := q.Get("type"); v != "" && rt.ver == "v8" && kind.typeFilter {
		if typ = enumValue(v, logTypes); typ == "" {
			writeError(w, rt.ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for type.", v))
			return
		}
	}
	id := normID(rt.id)
	s.mu.Lock()
	log, ok := lookup(id)
	var items []LogItem
	for _, it := range log {
		if !it.CreationTime.After(now) && (typ == "" || it.Type == typ) {
			items = append(items, it)
		}
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, rt.ver, http.StatusNotFound, codeNotFound, fmt.Sprintf("%s with ID %s was not found.", kind.name, id))
		return
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if !a.CreationTime.Equal(b.CreationTime) {
			return a.CreationTime.Before(b.CreationTime) == asc
		}
		return (a.USN < b.USN) == asc
	})
	base := "/" + rt.ver + "/" + kind.path + "/" + id
	from, to := window(len(items), offset, limit)
	results := make([]object, 0, to-from)
	for i := from; i < to; i++ {
		results = append(results, logItemJSON(rt.ver, base, kind.owner, &items[i]))
	}
	page := object{
		{"offset", offset},
		{"limit", limit},
		{"setId", randomUUID()},
		{"results", results},
		{"_links", pageLinks(base+"/LogItems", q, offset, limit, len(items))},
	}
	if rt.ver != "v8" {
		page = append(page, field{"totalCount", len(items)})
	}
	writeJSON(w, http.StatusOK, encodeJSON(page))
}

// enumValue is the documented spelling of v, which ASP.NET binds case-insensitively; "" if
// it is none of them.
func enumValue(v string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, v) {
			return a
		}
	}
	return ""
}

// adminLogItem is the admin API's log item: RESTLogItem's v8 field names.
type adminLogItem struct {
	ID           string `json:"id"`
	USN          int64  `json:"usn"`
	Type         string `json:"type"`
	Message      string `json:"message"`
	CreationTime string `json:"creationTime"`
	EndTime      string `json:"endTime"`
}

// serveAdminLogItems answers PUT /admin/sessions/{id}/logitems: the body, a JSON array of
// log items, replaces the session's log.
func (s *Simulator) serveAdminLogItems(w http.ResponseWriter, r *http.Request, sessionID string) {
	var body []adminLogItem
	if err := decodeBody(r, &body); err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	items, err := adminLog(body)
	if err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	if _, ok := s.Session(sessionID); !ok {
		adminError(w, http.StatusNotFound, fmt.Errorf("session %s not found", sessionID))
		return
	}
	if err := s.SetLogItems(sessionID, items); err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// logFlood streams the page of a logflood or logendless fault, item by item, so that the
// simulator's own memory stays small however large the page.
func (s *Simulator) logFlood(w http.ResponseWriter, r *http.Request, rt route, f Fault) {
	offset, _, err := paging(r.URL.Query())
	if err != nil {
		writeError(w, rt.ver, http.StatusBadRequest, codeValidation, err.Error())
		return
	}
	n, size, total := f.Entries, f.Bytes, 0
	if f.Kind == FaultLogFlood {
		n, size = cmp.Or(n, 150000), cmp.Or(size, 1)
		total = n
	} else {
		n, size = cmp.Or(n, 1000), cmp.Or(size, 7000)
		total = offset + 2*n
		if f.Status != 0 && offset > 0 {
			writeError(w, rt.ver, f.Status, codeHTTP, statusMessage(f.Status))
			return
		}
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	msg := bytes.Repeat([]byte("m"), int(size))
	fmt.Fprintf(bw, `{"offset":%d,"limit":%d,"totalCount":%d,"_links":{"next":{"href":"/%s/DataRetrievalSessions/%s/LogItems?offset=%d"}},"results":[`,
		offset, n, total, rt.ver, normID(rt.id), offset+n)
	var buf []byte
	for i := range n {
		if i%1024 == 0 && r.Context().Err() != nil {
			return
		}
		buf = append(buf[:0], `{"usn":`...)
		buf = strconv.AppendInt(buf, int64(offset+i+1), 10)
		if rt.ver == "v8" {
			buf = append(buf, `,"type":"Error","message":"`...)
		} else {
			buf = append(buf, `,"title":"[Error] `...)
		}
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		_, _ = bw.Write(buf)
		_, _ = bw.Write(msg)
		_, _ = bw.WriteString(`"}`)
	}
	_, _ = bw.WriteString("]}")
}
