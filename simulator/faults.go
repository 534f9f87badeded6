package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Fault kinds.
const (
	FaultLatency      = "latency"      // wait Latency, then answer normally
	FaultStall        = "stall"        // never answer until the request context ends (or ClearFaults)
	FaultStatus       = "status"       // answer Status (default 500) with the version's error body
	FaultRateLimit    = "ratelimit"    // 429 with Retry-After (RetryAfter, default 1s)
	FaultMalformed    = "malformed"    // 200 with a JSON content type and invalid JSON
	FaultTruncated    = "truncated"    // the real answer, cut off halfway; Content-Length promises all of it
	FaultNonJSON      = "nonjson"      // an HTML error page (Status, default 502)
	FaultHuge         = "huge"         // 200 with a JSON body of Bytes (default 64 MiB), streamed
	FaultUnauthorized = "unauthorized" // 401, and the presented access token is revoked
	FaultReset        = "reset"        // the connection is closed without an answer
)

// Fault kinds of a server that tries to get more out of the client than its own data.
const (
	// FaultRedirect answers Status (default 307) with Location; a client that follows it
	// sends the request (form, password, Authorization header) wherever Location says.
	FaultRedirect = "redirect"
	// FaultEcho answers Status (default 400) with an error whose message and errorCode echo
	// the raw request: the form as sent (password URL-encoded) and the Authorization header.
	FaultEcho = "echo"
	// FaultTokenAnswer issues real tokens but sets the token answer's field Field to the raw
	// JSON Value, or removes the field when Value is empty: {"expires_in": 1}, "1e12",
	// "\"3600\"", a missing access_token.
	FaultTokenAnswer = "tokenanswer"
)

// Fault kinds that make lists misbehave (see listfaults below).
const (
	// FaultPageCap serves list pages (sessions, v8 retrievals) of at most Entries (default
	// 100) entries whatever limit was asked, and echoes the asked limit in the page, as a
	// server with a lower page cap that does not say so; totalCount (v6/v7) and _links.next
	// still tell the truth.
	FaultPageCap = "pagecap"
	// FaultEndless serves session list pages that never end: Entries (default 1000) fresh
	// sessions a page, or fewer when less was asked, with names of Bytes (default 6 KiB),
	// each page promising more through totalCount and _links.next.
	FaultEndless = "endless"
	// FaultHugeList answers the data retrievals with Entries (default 100,000) small
	// retrievals: a bare array on v6/v7, pages on v8.
	FaultHugeList = "hugelist"
	// FaultLongEnum sends the real answer with every status, type, dataState and lastStatus
	// replaced by a fresh random value of Bytes (default 1 MiB).
	FaultLongEnum = "longenum"
)

var faultKinds = []string{FaultLatency, FaultStall, FaultStatus, FaultRateLimit, FaultMalformed,
	FaultTruncated, FaultNonJSON, FaultHuge, FaultUnauthorized, FaultReset,
	FaultRedirect, FaultEcho, FaultTokenAnswer,
	FaultPageCap, FaultEndless, FaultHugeList, FaultLongEnum, FaultLogFlood, FaultLogEndless}

// DefaultHugeBytes is the body size of a huge fault without Bytes.
const DefaultHugeBytes = 64 << 20

// Fault makes matching requests misbehave. Faults are tried in the order they were set; the
// first that matches a request applies to it.
type Fault struct {
	// Endpoint is token, logout, session, list, retrievals, logitems, one of the
	// installation's (jobs, jobsessions, jobsession, jobsessionlogitems, license,
	// repositories, proxies), of the tenants' (organizations, licensinginformation,
	// usedrepositories, licensedusers, restoresessions, restoresession) or * (any).
	Endpoint string
	// SessionID limits the fault to GET DataRetrievalSessions/{SessionID},
	// JobSessions/{SessionID} (and their LogItems) or RestoreSessions/{SessionID}; empty
	// matches any.
	SessionID string
	// JobID limits the fault to requests about one job: Jobs/{JobID}, JobSessions?jobId=JobID
	// and v6's Jobs/{JobID}/JobSessions.
	JobID      string
	Kind       string
	Latency    time.Duration
	Status     int
	RetryAfter time.Duration
	// Count is how many requests the fault applies to; 0 means until cleared.
	Count int
	// Bytes is the body size of a huge fault, the name length of an endless one and the value
	// length of a longenum one.
	Bytes int64
	// Location is where a redirect fault points (an absolute URL).
	Location string
	// Field and Value are the token answer field a tokenanswer fault replaces, and its
	// raw JSON value (empty: the field is left out).
	Field string
	Value string
	// Entries is the page size of a pagecap or endless fault and the length of a hugelist.
	Entries int

	remaining int
}

func (f *Fault) validate() error {
	switch f.Endpoint {
	case EndpointToken, EndpointLogout, EndpointSession, EndpointList, EndpointRetrievals, EndpointLogItems, EndpointAny:
	default:
		if !contains(installEndpoints, f.Endpoint) && !contains(tenantEndpoints, f.Endpoint) {
			return fmt.Errorf("unknown fault endpoint %q", f.Endpoint)
		}
	}
	if !contains(faultKinds, f.Kind) {
		return fmt.Errorf("unknown fault kind %q (want one of %s)", f.Kind, strings.Join(faultKinds, ", "))
	}
	if f.SessionID != "" && !isUUID(f.SessionID) || f.JobID != "" && !isUUID(f.JobID) {
		return fmt.Errorf("fault session id %q or job id %q is not a UUID", f.SessionID, f.JobID)
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return fmt.Errorf("fault status %d is not an HTTP status", f.Status)
	}
	if f.Count < 0 || f.Latency < 0 || f.RetryAfter < 0 || f.Bytes < 0 || f.Entries < 0 {
		return fmt.Errorf("fault count, latency, retryAfter, bytes and entries must not be negative")
	}
	return f.validateTrust()
}

func (f *Fault) validateTrust() error {
	switch f.Kind {
	case FaultRedirect:
		if u, err := url.Parse(f.Location); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("redirect fault: location %q is not an absolute URL", f.Location)
		}
	case FaultTokenAnswer:
		if f.Endpoint != EndpointToken {
			return fmt.Errorf("tokenanswer fault: endpoint must be %s", EndpointToken)
		}
		if f.Field == "" {
			return fmt.Errorf("tokenanswer fault: field is required")
		}
		if f.Value != "" && !json.Valid([]byte(f.Value)) {
			return fmt.Errorf("tokenanswer fault: value %q is not JSON", f.Value)
		}
	}
	return nil
}

// SetFault adds a fault.
func (s *Simulator) SetFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	f.SessionID, f.JobID = normID(f.SessionID), normID(f.JobID)
	f.remaining = f.Count
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
	return nil
}

// ClearFaults removes every fault and releases stalled requests.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	close(s.faultsCleared)
	s.faultsCleared = make(chan struct{})
}

func (f *Fault) matches(rt route, job string) bool {
	if f.Endpoint != EndpointAny && f.Endpoint != rt.endpoint || f.JobID != "" && f.JobID != job {
		return false
	}
	switch rt.endpoint {
	case EndpointSession, EndpointLogItems, EndpointJobSession, EndpointJobSessionLogItems, EndpointRestoreSession:
		return f.SessionID == "" || f.SessionID == normID(rt.id)
	}
	return f.SessionID == ""
}

// takeFault returns the fault for this request, using up one of its count.
func (s *Simulator) takeFault(rt route, job string) (Fault, <-chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !f.matches(rt, job) {
			continue
		}
		if f.Count > 0 {
			f.remaining--
			if f.remaining <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return *f, s.faultsCleared, true
	}
	return Fault{}, nil, false
}

// neverAnswer ends a request that was never answered, as a server that hangs would: a
// handler that returned would make net/http send an empty 200, which a client whose own
// deadline has not quite passed reads as a malformed answer.
func neverAnswer() { panic(http.ErrAbortHandler) }

// applyFault reports whether it has dealt with the request.
func (s *Simulator) applyFault(w http.ResponseWriter, r *http.Request, rt route) bool {
	f, cleared, ok := s.takeFault(rt, requestJob(rt, r))
	if !ok {
		return false
	}
	switch f.Kind {
	case FaultLatency:
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
			neverAnswer()
		}
	case FaultStall:
		select {
		case <-r.Context().Done():
			neverAnswer()
		case <-cleared:
			return false
		}
	case FaultStatus:
		code := f.Status
		if code == 0 {
			code = http.StatusInternalServerError
		}
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", retryAfter(f.RetryAfter))
		}
		writeError(w, rt.ver, code, codeHTTP, statusMessage(code))
	case FaultRateLimit:
		ra := f.RetryAfter
		if ra == 0 {
			ra = time.Second
		}
		w.Header().Set("Retry-After", retryAfter(ra))
		writeError(w, rt.ver, http.StatusTooManyRequests, codeHTTP, "Too many requests. Try again later.")
	case FaultMalformed:
		writeJSON(w, http.StatusOK, []byte(`{"id":"668f478c-0326-440a-8bdf-58cf39163ea2","name":"Exchange data retrieval",,"progress":}`))
	case FaultTruncated:
		s.truncated(w, r, rt)
	case FaultNonJSON:
		code := f.Status
		if code == 0 {
			code = http.StatusBadGateway
		}
		body := fmt.Sprintf("<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n<body><h1>%s</h1><p>The proxy server received an invalid response from an upstream server.</p></body></html>\n",
			code, http.StatusText(code), http.StatusText(code))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	case FaultHuge:
		n := f.Bytes
		if n == 0 {
			n = DefaultHugeBytes
		}
		streamHuge(w, r, n)
	case FaultUnauthorized:
		if tok, ok := s.bearer(r, s.opts.Now()); ok {
			s.revokeAccess(tok)
		}
		writeError(w, rt.ver, http.StatusUnauthorized, "", "Authorization has been denied for this request.")
	case FaultReset:
		reset(w)
	case FaultRedirect, FaultEcho, FaultTokenAnswer:
		s.applyTrustFault(w, r, rt, f)
	case FaultPageCap, FaultEndless, FaultHugeList, FaultLongEnum:
		return s.applyListFault(w, r, rt, f)
	case FaultLogFlood, FaultLogEndless:
		s.logFlood(w, r, rt, f)
	}
	return true
}

func (s *Simulator) applyTrustFault(w http.ResponseWriter, r *http.Request, rt route, f Fault) {
	switch f.Kind {
	case FaultRedirect:
		code := f.Status
		if code == 0 {
			code = http.StatusTemporaryRedirect
		}
		w.Header().Set("Location", f.Location)
		w.WriteHeader(code)
	case FaultEcho:
		code := f.Status
		if code == 0 {
			code = http.StatusBadRequest
		}
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		echo := fmt.Sprintf("Cannot process the request %s %s body=%s authorization=%s", r.Method, r.URL.RequestURI(), raw, r.Header.Get("Authorization"))
		o := object{{"message", echo}, {"errorCode", echo}}
		if rt.ver == "v8" {
			o = append(o, field{"stackTrace", nil})
		}
		writeJSON(w, code, encodeJSON(o))
	case FaultTokenAnswer:
		buf := &bufferWriter{header: http.Header{}, code: http.StatusOK}
		s.dispatch(buf, r, rt)
		body := buf.body.Bytes()
		if buf.code == http.StatusOK {
			var m map[string]json.RawMessage
			if json.Unmarshal(body, &m) == nil {
				if f.Value == "" {
					delete(m, f.Field)
				} else {
					m[f.Field] = json.RawMessage(f.Value)
				}
				body, _ = json.Marshal(m)
			}
		}
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		writeJSON(w, buf.code, body)
	}
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

func statusMessage(code int) string {
	if t := http.StatusText(code); t != "" {
		return t + "."
	}
	return fmt.Sprintf("HTTP error %d.", code)
}

// truncated sends the start of the real answer but promises all of it, so the client sees the
// connection end early.
func (s *Simulator) truncated(w http.ResponseWriter, r *http.Request, rt route) {
	buf := &bufferWriter{header: http.Header{}, code: http.StatusOK}
	s.dispatch(buf, r, rt)
	body := buf.body.Bytes()
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(buf.code)
	_, _ = w.Write(body[:len(body)/2])
	// Flush so the partial body reaches the client before net/http closes the connection for
	// the short write.
	_ = http.NewResponseController(w).Flush()
}

func streamHuge(w http.ResponseWriter, r *http.Request, n int64) {
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(http.StatusOK)
	head := []byte(`{"id":"668f478c-0326-440a-8bdf-58cf39163ea2","name":"`)
	tail := []byte(`"}`)
	if _, err := w.Write(head); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	for left := n - int64(len(head)+len(tail)); left > 0; left -= int64(len(chunk)) {
		if r.Context().Err() != nil {
			return
		}
		c := chunk
		if left < int64(len(c)) {
			c = c[:left]
		}
		if _, err := w.Write(c); err != nil {
			return
		}
	}
	_, _ = w.Write(tail)
}

func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hijack; aborting the handler resets the stream instead.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST rather than FIN, like a middlebox dropping the connection
	}
	_ = conn.Close()
}

// bufferWriter captures an answer so a fault can mangle it.
type bufferWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) WriteHeader(code int)        { b.code = code }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
