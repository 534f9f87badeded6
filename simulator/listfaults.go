package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Defaults of the list faults.
const (
	DefaultPageCap       = 100
	DefaultEndlessPage   = 1000
	DefaultEndlessName   = 6 << 10
	DefaultHugeList      = 100000
	DefaultLongEnumBytes = 1 << 20
)

// applyListFault reports whether it has dealt with the request; a fault that does not fit
// the request (a page cap on a list that does not page) lets it through.
func (s *Simulator) applyListFault(w http.ResponseWriter, r *http.Request, rt route, f Fault) bool {
	switch f.Kind {
	case FaultPageCap:
		paged := rt.endpoint == EndpointList || rt.endpoint == EndpointRetrievals && !rt.byID && rt.ver == "v8"
		if !paged {
			return false
		}
		s.pageCapped(w, r, rt, orDefault(f.Entries, DefaultPageCap))
	case FaultEndless:
		if rt.endpoint != EndpointList {
			return false
		}
		s.endlessPage(w, r, rt, orDefault(f.Entries, DefaultEndlessPage), int(orDefault(f.Bytes, DefaultEndlessName)))
	case FaultHugeList:
		if rt.endpoint != EndpointRetrievals || rt.byID {
			return false
		}
		hugeRetrievals(w, r, rt, orDefault(f.Entries, DefaultHugeList))
	case FaultLongEnum:
		s.longEnums(w, r, rt, int(orDefault(f.Bytes, DefaultLongEnumBytes)))
	}
	return true
}

func orDefault[T int | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// pageCapped answers a page of at most limit entries but claims the limit asked for.
func (s *Simulator) pageCapped(w http.ResponseWriter, r *http.Request, rt route, limit int) {
	q := r.URL.Query()
	_, asked, err := paging(q)
	if err != nil || asked <= limit {
		s.dispatch(w, r, rt)
		return
	}
	q.Set("limit", strconv.Itoa(limit))
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	buf := &bufferWriter{header: http.Header{}, code: http.StatusOK}
	s.dispatch(buf, r2, rt)
	body := buf.body.Bytes()
	var page map[string]json.RawMessage
	if buf.code == http.StatusOK && json.Unmarshal(body, &page) == nil {
		page["limit"] = json.RawMessage(strconv.Itoa(asked))
		body, _ = json.Marshal(page)
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	writeJSON(w, buf.code, body)
}

// endlessPage answers every page full of new sessions and promises more.
func (s *Simulator) endlessPage(w http.ResponseWriter, r *http.Request, rt route, perPage, nameBytes int) {
	offset, limit, err := paging(r.URL.Query())
	if err != nil {
		writeError(w, rt.ver, http.StatusBadRequest, codeValidation, err.Error())
		return
	}
	n := min(limit, perPage)
	now := s.opts.Now()
	results := make([]object, 0, n)
	for i := range n {
		k := offset + i
		name := fmt.Sprintf("endless %016d ", k)
		sess := Session{
			ID: fmt.Sprintf("eeeeeeee-0000-4000-8000-%012d", k), Name: name + strings.Repeat("N", max(0, nameBytes-len(name))),
			RetrievalID: ReferenceRetrievalID, CreationTime: now, EndTime: now,
			Type: TypeRetrieve, Status: StatusSuccess,
		}
		results = append(results, s.sessionJSON(rt.ver, &sess))
	}
	more := offset + limit + 1 // always more than this page reaches
	page := object{
		{"offset", offset},
		{"limit", limit},
		{"setId", randomUUID()},
		{"results", results},
		{"_links", pageLinks("/"+rt.ver+"/DataRetrievalSessions", r.URL.Query(), offset, n, more)},
	}
	if rt.ver != "v8" {
		page = append(page, field{"totalCount", more})
	}
	writeJSON(w, http.StatusOK, encodeJSON(page))
}

// hugeRetrievals answers n small retrievals, written as they are made.
func hugeRetrievals(w http.ResponseWriter, r *http.Request, rt route, n int) {
	from, to := 0, n
	var q url.Values
	if rt.ver == "v8" {
		q = r.URL.Query()
		offset, limit, err := paging(q)
		if err != nil {
			writeError(w, rt.ver, http.StatusBadRequest, codeValidation, err.Error())
			return
		}
		from, to = window(n, offset, limit)
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	if rt.ver == "v8" {
		_, limit, _ := paging(q)
		fmt.Fprintf(&buf, `{"offset":%d,"limit":%d,"setId":%q,"_links":%s,"results":[`, from, limit, randomUUID(),
			encodeJSON(pageLinks("/v8/DataRetrievals", q, from, limit, n)))
	} else {
		buf.WriteByte('[')
	}
	for i := from; i < to; i++ {
		if i > from {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"id":"dddddddd-0000-4000-8000-%012d","name":"retrieval %d","type":"Exchange","dataState":"Retrieved","lastStatus":"Success"}`, i, i)
		if buf.Len() > 64<<10 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			buf.Reset()
		}
	}
	if rt.ver == "v8" {
		buf.WriteString("]}")
	} else {
		buf.WriteByte(']')
	}
	_, _ = w.Write(buf.Bytes())
}

// enumKeys are the fields of sessions and retrievals whose values are enums.
var enumKeys = map[string]bool{"status": true, "type": true, "dataState": true, "lastStatus": true}

// longEnums sends the real answer with every enum value replaced by a fresh random one.
func (s *Simulator) longEnums(w http.ResponseWriter, r *http.Request, rt route, n int) {
	buf := &bufferWriter{header: http.Header{}, code: http.StatusOK}
	s.dispatch(buf, r, rt)
	body := buf.body.Bytes()
	var v any
	if buf.code == http.StatusOK && rt.endpoint != EndpointToken && json.Unmarshal(body, &v) == nil {
		body, _ = json.Marshal(replaceEnums(v, n))
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	writeJSON(w, buf.code, body)
}

func replaceEnums(v any, n int) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if _, ok := e.(string); ok && enumKeys[k] {
				x[k] = randomEnum(n)
			} else {
				x[k] = replaceEnums(e, n)
			}
		}
	case []any:
		for i := range x {
			x[i] = replaceEnums(x[i], n)
		}
	}
	return v
}

// randomEnum is n bytes starting with a random part, so that even its first bytes differ
// from every other value sent.
func randomEnum(n int) string {
	p := fmt.Sprintf("Unknown%016x%016x", rand.Uint64(), rand.Uint64())
	if n <= len(p) {
		return p[:n]
	}
	return p + strings.Repeat("x", n-len(p))
}
