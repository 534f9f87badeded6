// Package simulator is an in-memory stand-in for the Veeam Backup for Microsoft 365 REST API
// (v6, v7, v8): the token endpoint, data retrieval sessions and data retrievals, with
// injectable clock and faults so clients can be tested against everything a real server and
// the network between can do to them.
package simulator

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// End time styles for a session that has not ended; VB365 servers have been seen sending each.
const (
	EndTimeNull   = "null"
	EndTimeAbsent = "absent"
	EndTimeZero   = "zero" // "0001-01-01T00:00:00", .NET's DateTime.MinValue
)

// DefaultEndTimeStyle is used when Options.EndTimeStyle is empty. The schemas declare endTime
// as a non-nullable date-time, which .NET serialises as DateTime.MinValue when unset.
const DefaultEndTimeStyle = EndTimeZero

// Options configure a Simulator.
type Options struct {
	Username string
	Password string
	// TokenLifetime is how long an access token is valid (default 60 minutes).
	TokenLifetime time.Duration
	// RefreshTokenLifetime is how long a refresh token is valid (default 14 days).
	RefreshTokenLifetime time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// EndTimeStyle is how a not-ended session's endTime is sent: "null", "absent" or "zero".
	EndTimeStyle string
	// Admin mounts the unauthenticated /admin/ API on the simulator's handler.
	Admin bool
}

// Simulator is an http.Handler serving the simulated VB365 REST API. It is safe for concurrent use.
type Simulator struct {
	opts Options

	mu         sync.Mutex
	sessions   map[string]*Session
	retrievals map[string]*DataRetrieval
	inst       installation
	ten        tenants
	access     map[string]tokenInfo
	refresh    map[string]tokenInfo
	faults     []*Fault
	// faultsCleared is closed by ClearFaults so stalled requests give up.
	faultsCleared chan struct{}
	stats         Stats
}

type tokenInfo struct {
	expires time.Time
	// pair is the other token of the pair, so logout can drop both.
	pair string
}

// Stats counts the API requests the simulator has answered (admin requests are not counted).
type Stats struct {
	Total int64
	// ByEndpoint is keyed by token, logout, session, list, retrievals, logitems, unknown.
	ByEndpoint map[string]int64
	// ByStatus is keyed by HTTP status; 0 counts requests answered without a status
	// (stall, reset).
	ByStatus map[int]int64
	// BySession counts GET DataRetrievalSessions/{id}, JobSessions/{id} and
	// RestoreSessions/{id} requests by lower-case session ID.
	BySession map[string]int64
	// ByJob counts job session list requests for one job (v7/v8 ?jobId=, v6
	// Jobs/{id}/JobSessions) by lower-case job ID.
	ByJob        map[string]int64
	TokensIssued int64
}

func newStats() Stats {
	return Stats{ByEndpoint: map[string]int64{}, ByStatus: map[int]int64{}, BySession: map[string]int64{}, ByJob: map[string]int64{}}
}

func (st Stats) clone() Stats {
	c := newStats()
	c.Total, c.TokensIssued = st.Total, st.TokensIssued
	for k, v := range st.ByEndpoint {
		c.ByEndpoint[k] = v
	}
	for k, v := range st.ByStatus {
		c.ByStatus[k] = v
	}
	for k, v := range st.BySession {
		c.BySession[k] = v
	}
	for k, v := range st.ByJob {
		c.ByJob[k] = v
	}
	return c
}

// New returns an empty simulator.
func New(opts Options) *Simulator {
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 60 * time.Minute
	}
	if opts.RefreshTokenLifetime <= 0 {
		opts.RefreshTokenLifetime = 14 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch opts.EndTimeStyle {
	case EndTimeNull, EndTimeAbsent, EndTimeZero:
	default:
		opts.EndTimeStyle = DefaultEndTimeStyle
	}
	return &Simulator{
		opts:          opts,
		sessions:      map[string]*Session{},
		retrievals:    map[string]*DataRetrieval{},
		inst:          newInstallation(),
		ten:           newTenants(),
		access:        map[string]tokenInfo{},
		refresh:       map[string]tokenInfo{},
		faultsCleared: make(chan struct{}),
		stats:         newStats(),
	}
}

// AddSession adds or replaces a session.
func (s *Simulator) AddSession(sess Session) error {
	return s.add(sess.validate, []*string{&sess.ID, &sess.RetrievalID}, func() { s.sessions[sess.ID] = &sess })
}

// add is what every Add does: check the object, normalise its IDs, then store it under the
// lock.
func (s *Simulator) add(validate func() error, ids []*string, store func()) error {
	if err := validate(); err != nil {
		return err
	}
	for _, id := range ids {
		*id = normID(*id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	store()
	return nil
}

// UpdateSession changes a session under the simulator's lock. The callback sees the session
// advanced to the current time.
func (s *Simulator) UpdateSession(id string, fn func(*Session)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.sessions[normID(id)]
	if !ok {
		return fmt.Errorf("session %s not found", id)
	}
	now := s.opts.Now()
	cur.advance(now)
	next := *cur
	fn(&next)
	if err := next.validate(); err != nil {
		return err
	}
	if next.ID != cur.ID {
		return fmt.Errorf("session id cannot change")
	}
	// Progress set by the caller counts from now on, not from creation.
	next.advancedAt = now
	*cur = next
	return nil
}

// RemoveSession deletes a session; it reports whether it existed.
func (s *Simulator) RemoveSession(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sessions[normID(id)]
	delete(s.sessions, normID(id))
	return ok
}

// Session returns the session as the API would currently report it.
func (s *Simulator) Session(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.sessions[normID(id)]
	if !ok {
		return Session{}, false
	}
	cur.advance(s.opts.Now())
	return *cur, true
}

// AddDataRetrieval adds or replaces a data retrieval.
func (s *Simulator) AddDataRetrieval(r DataRetrieval) error {
	if !isUUID(r.ID) {
		return fmt.Errorf("data retrieval id %q is not a UUID", r.ID)
	}
	return s.add(func() error {
		return errors.Join(oneOf("data retrieval type", r.Type, retrievalTypes), oneOf("data state", r.DataState, dataStates),
			optional(r.LastStatus, oneOf("last status", r.LastStatus, sessionStatuses)))
	}, []*string{&r.ID}, func() { s.retrievals[r.ID] = &r })
}

// RevokeTokens invalidates every access and refresh token, as a server restart would.
func (s *Simulator) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access = map[string]tokenInfo{}
	s.refresh = map[string]tokenInfo{}
}

// Stats returns a copy of the request counters.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.clone()
}

// ResetStats zeroes the request counters.
func (s *Simulator) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = newStats()
}

// sortedSessions returns advanced copies, newest creation time first, ties by ID so paging is stable.
func (s *Simulator) sortedSessions(now time.Time, retrievalID string) []Session {
	out := make([]Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sess.advance(now)
		if retrievalID != "" && sess.RetrievalID != retrievalID {
			continue
		}
		out = append(out, *sess)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreationTime.Equal(out[j].CreationTime) {
			return out[i].CreationTime.After(out[j].CreationTime)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (s *Simulator) issueTokens(now time.Time) (access, refresh string) {
	access, refresh = randomToken(), randomToken()
	for k, v := range s.access {
		if !now.Before(v.expires) {
			delete(s.access, k)
		}
	}
	for k, v := range s.refresh {
		if !now.Before(v.expires) {
			delete(s.refresh, k)
		}
	}
	s.access[access] = tokenInfo{expires: now.Add(s.opts.TokenLifetime), pair: refresh}
	s.refresh[refresh] = tokenInfo{expires: now.Add(s.opts.RefreshTokenLifetime), pair: access}
	s.stats.TokensIssued++
	return access, refresh
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// bearer returns the access token of the request if it is known and not expired.
func (s *Simulator) bearer(r *http.Request, now time.Time) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(prefix):])
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := s.access[tok]
	if !ok || !now.Before(info.expires) {
		return "", false
	}
	return tok, true
}

func (s *Simulator) revokeAccess(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.access, tok)
}
