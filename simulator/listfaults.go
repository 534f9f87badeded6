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
		_, huge := hugeEntries[rt.endpoint]
		paged := contains([]string{EndpointList, EndpointJobSessions, EndpointLicensedUsers, EndpointRestoreSessions, EndpointUsedRepositories}, rt.endpoint) ||
			huge && !rt.byID && rt.ver == "v8"
		if !paged {
			return false
		}
		s.pageCapped(w, r, rt, orDefault(f.Entries, DefaultPageCap))
	case FaultEndless:
		if !contains([]string{EndpointList, EndpointJobSessions, EndpointRestoreSessions}, rt.endpoint) {
			return false
		}
		s.endlessPage(w, r, rt, orDefault(f.Entries, DefaultEndlessPage), int(orDefault(f.Bytes, DefaultEndlessName)))
	case FaultHugeList:
		if _, ok := hugeEntries[rt.endpoint]; !ok || rt.byID {
			return false
		}
		hugeList(w, r, rt, orDefault(f.Entries, DefaultHugeList))
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

// endlessPage answers every page full of new sessions (data retrieval, job or restore
// sessions, with names or details nameBytes long) and promises more.
func (s *Simulator) endlessPage(w http.ResponseWriter, r *http.Request, rt route, perPage, nameBytes int) {
	offset, limit, err := paging(r.URL.Query())
	if err != nil {
		writeError(w, rt.ver, http.StatusBadRequest, codeValidation, err.Error())
		return
	}
	n := min(limit, perPage)
	now := s.opts.Now()
	base, job := "/"+rt.ver+"/DataRetrievalSessions", normID(requestJob(rt, r))
	if rt.endpoint == EndpointRestoreSessions {
		base = "/" + rt.ver + "/RestoreSessions"
	}
	if rt.endpoint == EndpointJobSessions {
		base = "/" + rt.ver + "/JobSessions"
		if rt.jobID != "" {
			base = "/v6/Jobs/" + job + "/JobSessions"
		}
		if !isUUID(job) {
			job = "eeeeeeee-0000-4000-8000-000000000000"
		}
	}
	results := make([]object, 0, n)
	s.mu.Lock()
	for i := range n {
		k := offset + i
		id, name := fmt.Sprintf("eeeeeeee-0000-4000-8000-%012d", k), fmt.Sprintf("endless %016d ", k)
		name += strings.Repeat("N", max(0, nameBytes-len(name)))
		switch rt.endpoint {
		case EndpointRestoreSessions:
			rs := RestoreSession{ID: id, Name: name, Organization: "contoso.onmicrosoft.com", Type: RestoreExchange, CreationTime: now, EndTime: now,
				InitiatedBy: `VBO\restore-operator`}
			results = append(results, restoreJSON(rt.ver, &rs))
			continue
		case EndpointJobSessions:
			js := JobSession{ID: id, JobID: job, Details: name, CreationTime: now, EndTime: now, Status: StatusSuccess}
			results = append(results, s.jobSessionJSON(rt.ver, &js))
			continue
		}
		sess := Session{ID: id, Name: name, RetrievalID: ReferenceRetrievalID, CreationTime: now, EndTime: now,
			Type: TypeRetrieve, Status: StatusSuccess}
		results = append(results, s.sessionJSON(rt.ver, &sess))
	}
	s.mu.Unlock()
	more := offset + limit + 1 // always more than this page reaches
	page := object{
		{"offset", offset},
		{"limit", limit},
		{"setId", randomUUID()},
		{"results", results},
		{"_links", pageLinks(base, r.URL.Query(), offset, n, more)},
	}
	if rt.ver != "v8" {
		page = append(page, field{"totalCount", more})
	}
	writeJSON(w, http.StatusOK, encodeJSON(page))
}

// hugeEntries are the lists a hugelist fault can make huge: their path and one small entry.
var hugeEntries = map[string]struct{ path, entry string }{
	EndpointRetrievals:    {"DataRetrievals", `{"id":"dddddddd-0000-4000-8000-%012d","name":"retrieval %d","type":"Exchange","dataState":"Retrieved","lastStatus":"Success"}`},
	EndpointJobs:          {"Jobs", `{"id":"dddddddd-0000-4000-8000-%012d","name":"job %d","isEnabled":true,"lastStatus":"Success"}`},
	EndpointRepositories:  {"BackupRepositories", `{"id":"dddddddd-0000-4000-8000-%012d","name":"repository %d","capacityBytes":1099511627776,"freeSpaceBytes":549755813888,"isOutOfSync":false}`},
	EndpointProxies:       {"Proxies", `{"id":"dddddddd-0000-4000-8000-%012d","hostName":"proxy%d","status":"Online"}`},
	EndpointOrganizations: {"Organizations", `{"id":"dddddddd-0000-4000-8000-%012d","name":"tenant%d.onmicrosoft.com","type":"Office365"}`},
}

// hugeList answers n small entries of the list, written as they are made: a bare array on
// v6/v7, pages on v8.
func hugeList(w http.ResponseWriter, r *http.Request, rt route, n int) {
	kind := hugeEntries[rt.endpoint]
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
			encodeJSON(pageLinks("/v8/"+kind.path, q, from, limit, n)))
	} else {
		buf.WriteByte('[')
	}
	for i := from; i < to; i++ {
		if i > from {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, kind.entry, i, i)
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

// enumKeys are the fields of the answers whose values are enums.
var enumKeys = map[string]bool{"status": true, "type": true, "dataState": true, "lastStatus": true, "jobType": true,
	"backupType": true, "bottleneck": true, "jobSessionConfigType": true, "maintenanceModeState": true, "operatingSystem": true,
	"state": true, "result": true, "licenseState": true, "region": true}

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
