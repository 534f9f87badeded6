package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// adminSession is the admin API's session body: the API's field names plus the running plan.
type adminSession struct {
	adminRun
	Name, RetrievalID, Type, Status, RepositoryID, ProxyID, ProxyPoolID, FinalStatus *string
	Progress                                                                         *int32
	ProcessedObjects                                                                 *int64
	ProgressPerSecond, ObjectsPerSecond                                              *float64
}

type adminFault struct {
	Endpoint   string `json:"endpoint"`
	SessionID  string `json:"sessionId"`
	JobID      string `json:"jobId"`
	Kind       string `json:"kind"`
	Latency    string `json:"latency"`
	Status     int    `json:"status"`
	RetryAfter string `json:"retryAfter"`
	Count      int    `json:"count"`
	Bytes      int64  `json:"bytes"`
	Location   string `json:"location"`
	Field      string `json:"field"`
	Value      string `json:"value"`
	Entries    int    `json:"entries"`
}

func parseAdminTime(s string) (time.Time, error) {
	if s == "" || strings.HasPrefix(s, "0001-01-01") {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// adminTime is a time the body may carry and where it goes.
type adminTime struct {
	src *string
	dst *time.Time
}

// adminRun is what the admin bodies of sessions, job sessions and restore sessions share:
// the ID and the times of a run, with its planned end. The bodies' fields are named as the
// API names them (id, creationTime, ...), which encoding/json matches case-insensitively, so
// only a field named otherwise carries a tag. Fields left out of a PATCH stay as they are.
type adminRun struct {
	ID, CreationTime, EndTime, FinishAt *string
}

// apply copies the ID and the times present in the body; a bad time changes nothing.
func (a *adminRun) apply(id *string, creation, end, finishAt *time.Time) error {
	if err := setAdminTimes(adminTime{a.CreationTime, creation}, adminTime{a.EndTime, end}, adminTime{a.FinishAt, finishAt}); err != nil {
		return err
	}
	setPtr(id, a.ID)
	return nil
}

// setAdminTimes parses the times present in a body into their places, all or none.
func setAdminTimes(ts ...adminTime) error {
	vs := make([]time.Time, len(ts))
	for i, t := range ts {
		if t.src == nil {
			continue
		}
		v, err := parseAdminTime(*t.src)
		if err != nil {
			return fmt.Errorf("bad time %q: %w", *t.src, err)
		}
		vs[i] = v
	}
	for i, t := range ts {
		if t.src != nil {
			*t.dst = vs[i]
		}
	}
	return nil
}

// apply copies the fields present in the body onto sess; fields the body omits stay as they
// are. A body with a bad time changes nothing.
func (a *adminSession) apply(sess *Session) error {
	if err := a.adminRun.apply(&sess.ID, &sess.CreationTime, &sess.EndTime, &sess.FinishAt); err != nil {
		return err
	}
	setPtrs([][2]*string{{&sess.Name, a.Name}, {&sess.RetrievalID, a.RetrievalID}, {&sess.Type, a.Type}, {&sess.Status, a.Status},
		{&sess.RepositoryID, a.RepositoryID}, {&sess.ProxyID, a.ProxyID}, {&sess.ProxyPoolID, a.ProxyPoolID}, {&sess.FinalStatus, a.FinalStatus}})
	setPtrs([][2]*float64{{&sess.ProgressPerSecond, a.ProgressPerSecond}, {&sess.ObjectsPerSecond, a.ObjectsPerSecond}})
	setPtr(&sess.Progress, a.Progress)
	setPtr(&sess.ProcessedObjects, a.ProcessedObjects)
	return nil
}

func adminReply(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeJSON(w, status, b)
}

func adminError(w http.ResponseWriter, status int, err error) {
	adminReply(w, status, map[string]string{"message": err.Error()})
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad request body: %w", err)
	}
	return nil
}

// serveAdmin is the unauthenticated control API; it is only mounted when Options.Admin is set.
func (s *Simulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/admin"), "/")
	if s.serveAdminInstall(w, r, p) || s.serveAdminTenants(w, r, p) {
		return
	}
	switch {
	case p == "/sessions" && r.Method == http.MethodPost:
		var a adminSession
		if err := decodeBody(r, &a); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		sess := Session{CreationTime: s.opts.Now(), Type: TypeRetrieve, Status: StatusRunning}
		if a.ID == nil {
			sess.ID = randomUUID()
		}
		if err := a.apply(&sess); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		if err := s.AddSession(sess); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		adminReply(w, http.StatusCreated, map[string]string{"id": normID(sess.ID)})
	case strings.HasPrefix(p, "/sessions/") && strings.HasSuffix(p, "/logitems") && r.Method == http.MethodPut:
		s.serveAdminLogItems(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/sessions/"), "/logitems"))
	case strings.HasPrefix(p, "/sessions/") && (r.Method == http.MethodPatch || r.Method == http.MethodDelete):
		id := strings.TrimPrefix(p, "/sessions/")
		if r.Method == http.MethodDelete {
			if !s.RemoveSession(id) {
				adminError(w, http.StatusNotFound, fmt.Errorf("session %s not found", id))
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var a adminSession
		if err := decodeBody(r, &a); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		if a.ID != nil && normID(*a.ID) != normID(id) {
			adminError(w, http.StatusBadRequest, fmt.Errorf("the id cannot change"))
			return
		}
		var applyErr error
		err := s.UpdateSession(id, func(sess *Session) { applyErr = a.apply(sess) })
		if applyErr != nil {
			adminError(w, http.StatusBadRequest, applyErr)
			return
		}
		if err != nil {
			code := http.StatusBadRequest
			if _, ok := s.Session(id); !ok {
				code = http.StatusNotFound
			}
			adminError(w, code, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case p == "/faults" && r.Method == http.MethodPost:
		var a adminFault
		if err := decodeBody(r, &a); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		f := Fault{Endpoint: a.Endpoint, SessionID: a.SessionID, JobID: a.JobID, Kind: a.Kind, Status: a.Status, Count: a.Count, Bytes: a.Bytes,
			Location: a.Location, Field: a.Field, Value: a.Value, Entries: a.Entries}
		if f.Endpoint == "" {
			f.Endpoint = EndpointAny
		}
		for _, d := range []struct {
			src string
			dst *time.Duration
		}{{a.Latency, &f.Latency}, {a.RetryAfter, &f.RetryAfter}} {
			if d.src == "" {
				continue
			}
			v, err := time.ParseDuration(d.src)
			if err != nil {
				adminError(w, http.StatusBadRequest, err)
				return
			}
			*d.dst = v
		}
		if err := s.SetFault(f); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case p == "/faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case p == "/revoke-tokens" && r.Method == http.MethodPost:
		s.RevokeTokens()
		w.WriteHeader(http.StatusNoContent)
	case p == "/stats" && r.Method == http.MethodGet:
		st := s.Stats()
		byStatus := map[string]int64{}
		for k, v := range st.ByStatus {
			byStatus[fmt.Sprint(k)] = v
		}
		adminReply(w, http.StatusOK, map[string]any{
			"total": st.Total, "byEndpoint": st.ByEndpoint, "byStatus": byStatus,
			"bySession": st.BySession, "byJob": st.ByJob, "tokensIssued": st.TokensIssued,
		})
	default:
		adminError(w, http.StatusNotFound, fmt.Errorf("no admin endpoint %s %s", r.Method, r.URL.Path))
	}
}
