package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Endpoint names used by Stats and Fault.Endpoint.
const (
	EndpointToken      = "token"
	EndpointLogout     = "logout"
	EndpointSession    = "session"
	EndpointList       = "list"
	EndpointRetrievals = "retrievals"
	EndpointUnknown    = "unknown"
	EndpointAny        = "*"
)

const (
	maxLimit     = 10000
	defaultLimit = 30
)

type route struct {
	ver      string
	endpoint string
	id       string // path ID for session / retrieval by ID
	byID     bool
	jobID    string // the job of v6's Jobs/{id}/JobSessions
	method   string // the one method the route answers
}

// parseRoute matches paths case-insensitively, as ASP.NET routing does.
func parseRoute(p string) (route, bool) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) < 2 {
		return route{}, false
	}
	rt := route{ver: strings.ToLower(parts[0])}
	if rt.ver != "v6" && rt.ver != "v7" && rt.ver != "v8" {
		return route{}, false
	}
	rest := parts[1:]
	switch {
	case len(rest) == 1 && strings.EqualFold(rest[0], "token"):
		rt.endpoint, rt.method = EndpointToken, http.MethodPost
	case len(rest) == 2 && strings.EqualFold(rest[0], "token") && strings.EqualFold(rest[1], "logout") && rt.ver != "v6":
		rt.endpoint, rt.method = EndpointLogout, http.MethodPost
	case len(rest) == 3 && strings.EqualFold(rest[0], "DataRetrievalSessions") && strings.EqualFold(rest[2], "LogItems"):
		rt.endpoint, rt.method, rt.id, rt.byID = EndpointLogItems, http.MethodGet, rest[1], true
	case strings.EqualFold(rest[0], "DataRetrievalSessions") && len(rest) <= 2:
		rt.endpoint, rt.method = EndpointList, http.MethodGet
		if len(rest) == 2 {
			rt.endpoint, rt.id, rt.byID = EndpointSession, rest[1], true
		}
	case strings.EqualFold(rest[0], "DataRetrievals") && len(rest) <= 2:
		rt.endpoint, rt.method = EndpointRetrievals, http.MethodGet
		if len(rest) == 2 {
			rt.id, rt.byID = rest[1], true
		}
	default:
		if !parseKindRoute(&rt, rest) {
			rt.endpoint, rt.method = EndpointUnknown, ""
		}
	}
	return rt, true
}

// recorder remembers the status for Stats and lets ResponseController reach the real writer.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ServeHTTP implements http.Handler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Admin && (r.URL.Path == "/admin" || strings.HasPrefix(r.URL.Path, "/admin/")) {
		s.serveAdmin(w, r)
		return
	}
	rec := &recorder{ResponseWriter: w}
	rt, ok := parseRoute(r.URL.Path)
	if !ok {
		rt = route{ver: "v6", endpoint: EndpointUnknown}
	}
	defer func() {
		s.mu.Lock()
		s.stats.Total++
		s.stats.ByEndpoint[rt.endpoint]++
		s.stats.ByStatus[rec.status]++
		if rt.endpoint == EndpointSession || rt.endpoint == EndpointJobSession || rt.endpoint == EndpointRestoreSession {
			s.stats.BySession[normID(rt.id)]++
		}
		if job := requestJob(rt, r); job != "" && rt.endpoint == EndpointJobSessions {
			s.stats.ByJob[job]++
		}
		s.mu.Unlock()
	}()
	if !ok {
		// Unknown version prefixes get v6's error shape, the smallest common one.
		writeError(rec, "v6", http.StatusNotFound, "", fmt.Sprintf("No HTTP resource was found that matches the request URI '%s'.", r.URL.Path))
		return
	}
	if rt.endpoint == EndpointUnknown {
		writeError(rec, rt.ver, http.StatusNotFound, codeNotFound, fmt.Sprintf("No HTTP resource was found that matches the request URI '%s'.", r.URL.Path))
		return
	}
	if r.Method != rt.method {
		rec.Header().Set("Allow", rt.method)
		writeError(rec, rt.ver, http.StatusMethodNotAllowed, codeHTTP, fmt.Sprintf("The requested resource does not support http method '%s'.", r.Method))
		return
	}
	if s.applyFault(rec, r, rt) {
		return
	}
	s.dispatch(rec, r, rt)
}

// dispatch answers a routed API request as the real server would.
func (s *Simulator) dispatch(rec http.ResponseWriter, r *http.Request, rt route) {
	now := s.opts.Now()
	if rt.endpoint == EndpointToken {
		s.serveToken(rec, r, rt.ver, now)
		return
	}
	tok, ok := s.bearer(r, now)
	if !ok {
		writeError(rec, rt.ver, http.StatusUnauthorized, "", "Authorization has been denied for this request.")
		return
	}
	switch rt.endpoint {
	case EndpointLogout:
		s.serveLogout(rec, rt.ver, tok)
	case EndpointSession:
		s.serveSession(rec, rt, now)
	case EndpointLogItems:
		s.serveLogItems(rec, r, rt, now)
	case EndpointList:
		s.serveList(rec, r, rt.ver, now)
	case EndpointRetrievals:
		if rt.byID {
			s.serveRetrieval(rec, rt, now)
		} else {
			s.serveRetrievals(rec, r, rt.ver, now)
		}
	default:
		if contains(tenantEndpoints, rt.endpoint) {
			s.serveTenants(rec, r, rt, now)
			return
		}
		s.serveInstall(rec, r, rt, now)
	}
}

// tokenParams reads the token request, which VB365 accepts form-encoded or as JSON.
func tokenParams(r *http.Request) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil {
			return nil, fmt.Errorf("the request body is not valid JSON")
		}
		v := url.Values{}
		for k, x := range m {
			switch t := x.(type) {
			case string:
				v.Set(k, t)
			case bool:
				v.Set(k, strconv.FormatBool(t))
			case nil:
			default:
				return nil, fmt.Errorf("the value of %q has the wrong type", k)
			}
		}
		return v, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("the request body is not a valid form")
	}
	return r.PostForm, nil
}

func (s *Simulator) serveToken(w http.ResponseWriter, r *http.Request, ver string, now time.Time) {
	p, err := tokenParams(r)
	if err != nil {
		writeError(w, ver, http.StatusBadRequest, codeValidation, err.Error())
		return
	}
	if ver != "v6" {
		if v := p.Get("disable_antiforgery_token"); v != "" {
			if _, err := strconv.ParseBool(v); err != nil {
				writeError(w, ver, http.StatusBadRequest, codeValidation, "The value of disable_antiforgery_token is not a boolean.")
				return
			}
		}
	}
	grant := p.Get("grant_type")
	switch grant {
	case "password":
		if p.Get("username") == "" || p.Get("password") == "" ||
			!strings.EqualFold(p.Get("username"), s.opts.Username) || p.Get("password") != s.opts.Password {
			writeError(w, ver, http.StatusBadRequest, codeDenied, "Invalid username or password.")
			return
		}
	case "refresh_token":
		rt := p.Get("refresh_token")
		s.mu.Lock()
		info, ok := s.refresh[rt]
		valid := ok && now.Before(info.expires)
		if ok {
			// Refresh tokens are single use, as with the OWIN server VB365 is built on.
			delete(s.refresh, rt)
		}
		s.mu.Unlock()
		if !valid {
			writeError(w, ver, http.StatusBadRequest, codeDenied, "Invalid refresh token.")
			return
		}
	case "":
		writeError(w, ver, http.StatusBadRequest, codeValidation, "The grant_type parameter is required.")
		return
	case "integration":
		if ver == "v8" {
			writeError(w, ver, http.StatusBadRequest, codeValidation, "Unsupported grant type: integration.")
			return
		}
		writeError(w, ver, http.StatusBadRequest, codeDenied, "Invalid integration token.")
		return
	default:
		writeError(w, ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("Unsupported grant type: %s.", grant))
		return
	}
	s.mu.Lock()
	access, refresh := s.issueTokens(now)
	s.mu.Unlock()
	body := object{
		{"access_token", access},
		{"refresh_token", refresh},
		{"token_type", "bearer"},
		{"expires_in", int64(s.opts.TokenLifetime / time.Second)},
		{"userName", s.opts.Username},
		{".issued", formatTime(now)},
		{".expires", formatTime(now.Add(s.opts.TokenLifetime))},
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, encodeJSON(body))
}

func (s *Simulator) serveLogout(w http.ResponseWriter, ver, tok string) {
	s.mu.Lock()
	if info, ok := s.access[tok]; ok {
		delete(s.refresh, info.pair)
	}
	delete(s.access, tok)
	s.mu.Unlock()
	if ver == "v7" {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) serveSession(w http.ResponseWriter, rt route, now time.Time) {
	s.serveOne(w, rt, "dataRetrievalSessionId", "Data retrieval session", func(id string) ([]byte, bool) {
		sess, ok := s.sessions[id]
		if !ok {
			return nil, false
		}
		sess.advance(now)
		return encodeJSON(s.sessionJSON(rt.ver, sess)), true
	})
}

// serveOne answers a GET of one object by ID, as the API does for each kind: 400 for an ID
// that is not a UUID, 404 for an unknown one. encode runs under the simulator's lock.
func (s *Simulator) serveOne(w http.ResponseWriter, rt route, param, kind string, encode func(id string) ([]byte, bool)) {
	if body, ok := findOne(s, w, rt, param, kind, encode); ok {
		writeJSON(w, http.StatusOK, body)
	}
}

// serveFrom answers the object of m the request names, encoded by enc.
func serveFrom[T any](s *Simulator, w http.ResponseWriter, rt route, param, kind string, m map[string]*T, enc func(*T) object) {
	s.serveOne(w, rt, param, kind, func(id string) ([]byte, bool) {
		v, ok := m[id]
		if !ok {
			return nil, false
		}
		return encodeJSON(enc(v)), true
	})
}

// findOne looks up what a request by ID names, answering 400 for an ID that is not a UUID and
// 404 for an unknown one itself (then false). find runs under the simulator's lock.
func findOne[T any](s *Simulator, w http.ResponseWriter, rt route, param, kind string, find func(id string) (T, bool)) (T, bool) {
	var v T
	if !isUUID(rt.id) {
		writeError(w, rt.ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for %s.", rt.id, param))
		return v, false
	}
	s.mu.Lock()
	v, ok := find(normID(rt.id))
	s.mu.Unlock()
	if !ok {
		writeError(w, rt.ver, http.StatusNotFound, codeNotFound, fmt.Sprintf("%s with ID %s was not found.", kind, normID(rt.id)))
	}
	return v, ok
}

// paging reads offset and limit; the error is the message for a 400.
func paging(q url.Values) (offset, limit int, err error) {
	offset, limit = 0, defaultLimit
	if v := q.Get("offset"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 32)
		if perr != nil || n < 0 {
			return 0, 0, fmt.Errorf("The value '%s' is not valid for offset.", v)
		}
		offset = int(n)
	}
	if v := q.Get("limit"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 32)
		if perr != nil || n < 1 {
			return 0, 0, fmt.Errorf("The value '%s' is not valid for limit.", v)
		}
		if n > maxLimit {
			return 0, 0, fmt.Errorf("The limit must not exceed %d.", maxLimit)
		}
		limit = int(n)
	}
	return offset, limit, nil
}

func pageLinks(base string, q url.Values, offset, limit, total int) object {
	mk := func(off int) string {
		v := url.Values{}
		for k, x := range q {
			if k != "offset" && k != "limit" {
				v[k] = x
			}
		}
		v.Set("offset", strconv.Itoa(off))
		v.Set("limit", strconv.Itoa(limit))
		return base + "?" + v.Encode()
	}
	l := links("self", mk(offset))
	if offset+limit < total {
		l = append(l, links("next", mk(offset+limit))...)
	}
	return l
}

func window(n, offset, limit int) (int, int) {
	if offset > n {
		offset = n
	}
	end := offset + limit
	if end > n {
		end = n
	}
	return offset, end
}

func (s *Simulator) serveList(w http.ResponseWriter, r *http.Request, ver string, now time.Time) {
	q := r.URL.Query()
	offset, limit, err := paging(q)
	if err != nil {
		writeError(w, ver, http.StatusBadRequest, codeValidation, err.Error())
		return
	}
	filter := q.Get("dataRetrievalId")
	if filter != "" && !isUUID(filter) {
		writeError(w, ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for dataRetrievalId.", filter))
		return
	}
	s.mu.Lock()
	all := s.sortedSessions(now, normID(filter))
	from, to := window(len(all), offset, limit)
	results := make([]object, 0, to-from)
	for i := from; i < to; i++ {
		results = append(results, s.sessionJSON(ver, &all[i]))
	}
	s.mu.Unlock()
	page := object{
		{"offset", offset},
		{"limit", limit},
		{"setId", randomUUID()},
		{"results", results},
		{"_links", pageLinks("/"+ver+"/DataRetrievalSessions", q, offset, limit, len(all))},
	}
	// v8 dropped totalCount from the page.
	if ver != "v8" {
		page = append(page, field{"totalCount", len(all)})
	}
	writeJSON(w, http.StatusOK, encodeJSON(page))
}

// lastStatus of a retrieval is the status of its newest session; caller holds s.mu.
func (s *Simulator) lastStatus(r *DataRetrieval, now time.Time) string {
	var newest *Session
	for _, sess := range s.sessions {
		if sess.RetrievalID != r.ID {
			continue
		}
		if newest == nil || sess.CreationTime.After(newest.CreationTime) {
			newest = sess
		}
	}
	if newest == nil {
		return r.LastStatus
	}
	newest.advance(now)
	return newest.Status
}

func (s *Simulator) serveRetrieval(w http.ResponseWriter, rt route, now time.Time) {
	s.serveOne(w, rt, "dataRetrievalId", "Data retrieval", func(id string) ([]byte, bool) {
		ret, ok := s.retrievals[id]
		if !ok {
			return nil, false
		}
		return encodeJSON(s.retrievalJSON(rt.ver, ret, s.lastStatus(ret, now))), true
	})
}

func (s *Simulator) serveRetrievals(w http.ResponseWriter, r *http.Request, ver string, now time.Time) {
	q := r.URL.Query()
	for _, k := range []string{"organizationId", "repositoryId"} {
		if v := q.Get(k); v != "" && !isUUID(v) {
			writeError(w, ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for %s.", v, k))
			return
		}
	}
	state := q.Get("dataState")
	if state != "" && !contains(dataStates, state) {
		writeError(w, ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for dataState.", state))
		return
	}
	offset, limit := 0, maxLimit
	if ver == "v8" {
		var err error
		if offset, limit, err = paging(q); err != nil {
			writeError(w, ver, http.StatusBadRequest, codeValidation, err.Error())
			return
		}
	}
	s.mu.Lock()
	var list []*DataRetrieval
	for _, ret := range s.retrievals {
		if (state == "" || ret.DataState == state) &&
			(q.Get("organizationId") == "" || strings.EqualFold(ret.OrganizationID, q.Get("organizationId"))) &&
			(q.Get("repositoryId") == "" || strings.EqualFold(ret.RepositoryID, q.Get("repositoryId"))) {
			list = append(list, ret)
		}
	}
	sortRetrievals(list)
	from, to := window(len(list), offset, limit)
	results := make([]object, 0, to-from)
	for _, ret := range list[from:to] {
		results = append(results, s.retrievalJSON(ver, ret, s.lastStatus(ret, now)))
	}
	s.mu.Unlock()
	// v6 and v7 answer a bare array; v8 pages.
	if ver != "v8" {
		writeJSON(w, http.StatusOK, encodeJSON(results))
		return
	}
	writeJSON(w, http.StatusOK, encodeJSON(object{
		{"offset", offset},
		{"limit", limit},
		{"setId", randomUUID()},
		{"results", results},
		{"_links", pageLinks("/v8/DataRetrievals", q, offset, limit, len(list))},
	}))
}

func sortRetrievals(list []*DataRetrieval) {
	sort.Slice(list, func(i, j int) bool {
		if !list[i].StartTime.Equal(list[j].StartTime) {
			return list[i].StartTime.After(list[j].StartTime)
		}
		return list[i].ID < list[j].ID
	})
}
