package vb365

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// elsewhere is a second server that must never be contacted: it counts what reaches it.
func elsewhere(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"stolen","token_type":"bearer","expires_in":3600}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// A server that redirects must not make the client send the form (password included) or the
// bearer token anywhere else, nor accept a token from elsewhere.
func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		endpoint string
		status   int
		host     func(port string) string
	}{
		{"token 307 to another host", simulator.EndpointToken, http.StatusTemporaryRedirect, func(p string) string { return "localhost:" + p }},
		{"token 307 to another port", simulator.EndpointToken, http.StatusTemporaryRedirect, func(p string) string { return "127.0.0.1:" + p }},
		{"session 302 to another host", simulator.EndpointSession, http.StatusFound, func(p string) string { return "localhost:" + p }},
		{"session 302 to another port", simulator.EndpointSession, http.StatusFound, func(p string) string { return "127.0.0.1:" + p }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other, hits := elsewhere(t)
			port := other.URL[strings.LastIndex(other.URL, ":")+1:]
			host := tc.host(port)
			s := newSimClient(t, 5*time.Second)
			s.fault(t, simulator.Fault{Endpoint: tc.endpoint, Kind: simulator.FaultRedirect, Status: tc.status,
				Location: "http://" + host + "/v7/token?leak=query-part"})
			_, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			if n := hits.Load(); n != 0 {
				t.Errorf("%d requests reached the other server", n)
			}
			var redir *RedirectError
			if !errors.As(err, &redir) || Reason(err) != "redirect not followed" {
				t.Errorf("err = %v (%s), want a RedirectError", err, Reason(err))
			}
			msg := err.Error()
			for _, want := range []string{"redirect", "not followed", sprintf("%d", tc.status), host} {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not say %q: %v", want, msg)
				}
			}
			for _, not := range []string{"leak", "query-part", "/v7/token"} {
				if strings.Contains(msg, not) {
					t.Errorf("error quotes the Location's path or query (%q): %v", not, msg)
				}
			}
		})
	}
}

// The client never follows redirects even when the caller's http.Client would, and the
// caller's client is left as it was.
func TestNewDisablesRedirectsOnACopy(t *testing.T) {
	other, hits := elsewhere(t)
	srv := httptest.NewServer(http.RedirectHandler(other.URL+"/v6/token", http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)
	hc := &http.Client{}
	c, err := New(Options{BaseURL: srv.URL, Username: testUser, Password: func() string { return testPassword }, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSession(context.Background(), refID); Reason(err) != "redirect not followed" {
		t.Errorf("err = %v", err)
	}
	if hits.Load() != 0 {
		t.Error("the redirect was followed")
	}
	if hc.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}

const echoPassword = "Sup3r$ecret&Pa55 w0rd!"

// secretForms are the ways a server may echo a secret: as sent in a form, as a URL or a
// JSON string would carry it, and mixtures.
func secretForms(secret string) map[string]string {
	jsonEsc, _ := json.Marshal(secret) // escapes & as \u0026
	var allU strings.Builder
	for _, r := range secret {
		fmt.Fprintf(&allU, `\u%04X`, r)
	}
	lowerHex := regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(url.QueryEscape(secret), strings.ToLower)
	return map[string]string{
		"plain":                  secret,
		"QueryEscape":            url.QueryEscape(secret),
		"QueryEscape with %20":   strings.ReplaceAll(url.QueryEscape(secret), "+", "%20"),
		"PathEscape":             url.PathEscape(secret),
		"lower-case hex":         lowerHex,
		"encodeURIComponent":     strings.NewReplacer("%21", "!", "+", "%20").Replace(url.QueryEscape(secret)),
		"JSON-escaped":           strings.Trim(string(jsonEsc), `"`),
		"every character \\u":    allU.String(),
		"quoted in JSON in JSON": strings.ReplaceAll(string(jsonEsc), `"`, `\"`),
	}
}

// Every form of the password in the message or the errorCode of an error answer is masked,
// and the message is cut only after that.
func TestEchoedSecretsAreMaskedInEveryForm(t *testing.T) {
	for name, form := range secretForms(echoPassword) {
		for _, field := range []string{"message", "errorCode"} {
			for _, pad := range []int{0, 281} { // 281: a cut at 300 bytes would keep the secret's first 10
				t.Run(fmt.Sprintf("%s/%s/pad%d", name, field, pad), func(t *testing.T) {
					f := newFakeAPI()
					f.password = echoPassword
					c := newTestClient(t, f, "v6", echoPassword, nil)
					f.mu.Lock()
					f.sessionCode = 500
					b, _ := json.Marshal(map[string]string{field: strings.Repeat("x", pad) + "password=" + form + " end"})
					f.sessionBody = string(b)
					f.mu.Unlock()
					_, err := c.GetSession(context.Background(), refID)
					if err == nil {
						t.Fatal("no error")
					}
					assertNoSecret(t, err.Error(), echoPassword)
					if pad == 0 && !regexp.MustCompile(`password=\\?"?<secret>\\?"? end`).MatchString(err.Error()) {
						t.Errorf("the server's text was not kept around the mask: %v", err)
					}
				})
			}
		}
	}
}

// assertNoSecret fails when any form of secret, or its first 8 bytes in any form, is in s.
func assertNoSecret(t *testing.T, s, secret string) {
	t.Helper()
	for name, form := range secretForms(secret) {
		if strings.Contains(s, form) {
			t.Errorf("%s form of the secret in %q", name, s)
		}
	}
	for name, form := range secretForms(secret[:8]) {
		if strings.Contains(s, form) {
			t.Errorf("%s form of the secret's start in %q", name, s)
		}
	}
}

func TestScrub(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a token-1 b", "a <secret> b"},
		{"a token-1,token-1", "a <secret>,<secret>"},
		{"a token-1token-1", "a token-1token-1"},                         // shorter than a piece: whole tokens only
		{"a Sup3r$ecret&Pa55 w0rd!Sup3r$ecret&Pa55 w0rd!", "a <secret>"}, // one mask for what touches
		{"upper case SUP3R$ECRET&PA55 W0RD! too", "upper case <secret> too"},
		{"a piece: ecret&Pa55 w0", "a piece: <secret>"},
		{"zero\u200bwidth Sup3r$ec\u200bret", "zerowidth <secret>"},
		{"mixed Sup3r%24ecret&Pa55+w0rd%21.", "mixed <secret>."},
		{"%2541 is not %41", "%2541 is not %41"},
		{"cut by the server: Sup3r%24e", "cut by the server: <secret>"},
		{"ends in Sup", "ends in Sup"}, // too short to tell from ordinary text
		{"unicode p%C3%A4ss%C3%A4, p\\u00e4ss\\u00e4 and PÄSSÄ", "unicode <secret>, <secret> and <secret>"},
		{"emoji \\ud83d\\ude00x", "emoji <secret>"},
		{"broken escapes % %4 \\u12 \\", "broken escapes % %4 \\u12 \\"},
	} {
		if got := Scrub(tc.in, "token-1", echoPassword, "pässä", "😀x", ""); got != tc.want {
			t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Scrub("%41%41", "%41"); got != "<secret>%41" {
		// %41 is both "A" and the password's own characters: "%41" itself must go.
		t.Errorf("Scrub = %q", got)
	}
	// Backslashes read both as themselves and as JSON escapes: masked whole, read once.
	if got := Scrub(`x`+strings.Repeat(`\`, 200)+`y`, strings.Repeat(`\`, 50)); got != "x<secret>y" {
		t.Errorf("backslashes: %q", got)
	}
	// Eight bytes of a secret are a piece of it wherever they are; fewer are not.
	if text := `x` + strings.Repeat(`\`, 99) + `y`; Scrub(text, strings.Repeat(`\`, 100)) != "x<secret>y" {
		t.Errorf("99 backslashes of 100 not masked")
	}
	if text := "x Sup3r$e y"; Scrub(text, echoPassword) != text {
		t.Errorf("7 bytes of the password masked: %q", Scrub(text, echoPassword))
	}
	if got := shorten("ab€x", 5); got != "ab…" {
		t.Errorf("cut split a character: %q", got)
	}
}

// A server that echoes the raw request in its error answer: the form (password
// URL-encoded, refresh token) and the Authorization header.
func TestEchoFaultShowsNoSecret(t *testing.T) {
	for _, endpoint := range []string{simulator.EndpointToken, simulator.EndpointSession} {
		t.Run(endpoint, func(t *testing.T) {
			s := newSimClientPassword(t, 5*time.Second, echoPassword)
			if _, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID); err != nil {
				t.Fatal(err)
			}
			s.client.mu.Lock()
			access, refresh := s.client.token.access, s.client.token.refresh
			s.client.token.renewAt = time.Time{} // renew: the token request sends the refresh token
			s.client.mu.Unlock()
			s.fault(t, simulator.Fault{Endpoint: endpoint, Kind: simulator.FaultEcho})
			_, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			msg := err.Error()
			if !strings.Contains(msg, "<secret>") {
				t.Errorf("nothing masked; is the echo there? %v", err)
			}
			assertNoSecret(t, msg, echoPassword)
			for _, tok := range []string{access, refresh} {
				assertNoSecret(t, msg, tok)
			}
		})
	}
}

// A token answer's lifetime is clamped, and an answer that cannot be used is a failure that
// is backed off: 30 calls over a minute make one or two token requests, not 30.
func TestTokenAnswersAreNotTrusted(t *testing.T) {
	for _, tc := range []struct {
		name, field, value string
		maxTokens          int64
		fails              string // the error of an unusable answer; empty when usable
	}{
		{name: "expires_in 1", field: "expires_in", value: "1", maxTokens: 1},
		{name: "expires_in 0", field: "expires_in", value: "0", maxTokens: 1},
		{name: "expires_in overflows", field: "expires_in", value: "1e12", maxTokens: 1},
		{name: "expires_in a string", field: "expires_in", value: `"3600"`, maxTokens: 2,
			fails: "token: malformed answer: expires_in: want a number of seconds, got a string"},
		{name: "no access_token", field: "access_token", value: "", maxTokens: 2,
			fails: "token: malformed answer: access_token: missing"},
		{name: "access_token a number", field: "access_token", value: "42", maxTokens: 2,
			fails: "token: malformed answer: access_token: want a string, got a number"},
		{name: "token_type not bearer", field: "token_type", value: `"mac"`, maxTokens: 2,
			fails: "token: malformed answer: token_type: want bearer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSimClient(t, 5*time.Second)
			s.client.metrics = NewMetrics(nil)
			s.fault(t, simulator.Fault{Endpoint: simulator.EndpointToken, Kind: simulator.FaultTokenAnswer, Field: tc.field, Value: tc.value})
			for i := range 30 {
				_, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID)
				switch {
				case tc.fails == "" && err != nil:
					t.Fatalf("call %d: %v", i, err)
				case tc.fails != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.fails)):
					t.Fatalf("call %d: err = %v, want %q", i, err, tc.fails)
				case tc.fails != "" && !IsClientWide(err):
					t.Errorf("call %d: %v is not client-wide", i, err)
				}
				s.clk.Add(2 * time.Second)
			}
			n := s.tokens.Load()
			if n < 1 || n > tc.maxTokens {
				t.Errorf("token requests for 30 calls over a minute = %d, want 1..%d", n, tc.maxTokens)
			}
			var success, failure float64
			for _, grant := range []string{"password", "refresh_token"} {
				success += testutil.ToFloat64(s.client.metrics.tokens.WithLabelValues("", grant, "success"))
				failure += testutil.ToFloat64(s.client.metrics.tokens.WithLabelValues("", grant, "failure"))
			}
			if tc.fails == "" && (success != float64(n) || failure != 0) || tc.fails != "" && (failure != float64(n) || success != 0) {
				t.Errorf("token metric: success %v, failure %v for %d requests", success, failure, n)
			}
		})
	}
}

// The renewal point follows the clamped lifetime: never more than once a minute, at most
// half the lifetime early, and renewBefore early for long-lived tokens.
func TestTokenRenewalPoint(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &Client{now: clk.Now}
	for _, tc := range []struct {
		expiresIn string
		use       time.Duration
	}{
		{"-5", time.Minute},
		{"1", time.Minute},
		{"90", time.Minute},
		{"180", 90 * time.Second},
		{"3600", 58 * time.Minute},
		{"3600.5", 58*time.Minute + 500*time.Millisecond},
		{"9.3e9", 24*time.Hour - 2*time.Minute},
		{"1e300", 24*time.Hour - 2*time.Minute},
	} {
		tok, err := c.decodeToken([]byte(`{"access_token":"a","expires_in":` + tc.expiresIn + `}`))
		if err != nil {
			t.Fatalf("%s: %v", tc.expiresIn, err)
		}
		if got := tok.renewAt.Sub(clk.Now()); got != tc.use {
			t.Errorf("expires_in %s: used for %v, want %v", tc.expiresIn, got, tc.use)
		}
	}
	for _, body := range []string{`{"access_token":"secret-token","expires_in":"x"}`, `{"access_token":"secret-token","token_type":"secret-token"}`, `{"access_token":["secret-token"]}`, `["secret-token"]`} {
		if _, err := c.decodeToken([]byte(body)); err == nil || strings.Contains(err.Error(), "secret-token") {
			t.Errorf("%s: err = %v, want an error that quotes no value", body, err)
		}
	}
}

// An answer about another session than the one asked for is an error of its own, not a
// connection error; the server's id is read in any case, and quoted bounded.
func TestAnswerForAnotherSession(t *testing.T) {
	const other = "00000000-0000-0000-0000-000000000001"
	f := newFakeAPI()
	c := newTestClient(t, f, "v8", testPassword, nil)
	_, err := c.GetSession(context.Background(), other)
	var wrong *WrongSessionError
	var decErr *DecodeError
	if !errors.As(err, &wrong) || !errors.As(err, &decErr) || wrong.Asked != other || wrong.Got != refID {
		t.Fatalf("err = %#v, want a WrongSessionError in a DecodeError", err)
	}
	if got := Reason(err); got != "answer for another session" {
		t.Errorf("Reason = %q", got)
	}
	f.mu.Lock()
	f.sessionBody = strings.Replace(referenceSession, refID, strings.ToUpper(refID), 1)
	f.mu.Unlock()
	if s, err := c.GetSession(context.Background(), refID); err != nil || s.ID != refID {
		t.Errorf("an answer with the id in upper case is the same session: %v", err)
	}

	f.mu.Lock()
	f.sessionBody = strings.Replace(referenceSession, refID, strings.Repeat("€", 400), 1)
	f.mu.Unlock()
	_, err = c.GetSession(context.Background(), refID)
	if Reason(err) != "answer for another session" || len(err.Error()) > 300 || !utf8.ValidString(err.Error()) {
		t.Errorf("err = %q (%d bytes), want a short, valid quote of the id", err, len(err.Error()))
	}
}

// Texts of sessions become labels: a server cannot make the exporter publish the password
// or the token through them.
func TestSessionTextsAreScrubbed(t *testing.T) {
	f := newFakeAPI()
	c := newTestClient(t, f, "v8", testPassword, nil)
	f.mu.Lock()
	f.sessionBody = strings.Replace(referenceSession, `"Exchange data retrieval"`, `"pw `+url.QueryEscape(testPassword)+` tok access-1"`, 1)
	f.mu.Unlock()
	s, err := c.GetSession(context.Background(), refID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "pw <secret> tok <secret>" {
		t.Errorf("session name = %q", s.Name)
	}
	f.mu.Lock()
	f.sessionBody = `{"offset":0,"limit":1,"results":[` + f.sessionBody + `]}`
	f.mu.Unlock()
	p, err := c.ListSessions(context.Background(), ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sessions) != 1 || p.Sessions[0].Name != "pw <secret> tok <secret>" {
		t.Errorf("listed sessions = %+v", p.Sessions)
	}
}

// IDs are lower-cased as they are decoded, before the secrets are at hand: a password or a
// token a server sends back as an ID must not reach a label, not even case-folded.
func TestSessionIDsAreScrubbedInAnyCase(t *testing.T) {
	f := newFakeAPI()
	c := newTestClient(t, f, "v8", testPassword, nil)
	if _, err := c.GetSession(context.Background(), refID); err != nil { // takes a token
		t.Fatal(err)
	}
	session := strings.Replace(referenceSession, `"id": "`+refID+`"`, `"id": "`+testPassword+`"`, 1)
	session = strings.Replace(session, `"retrievalId": "`, `"retrievalId": "x`+strings.ToUpper(testPassword), 1)
	if session == referenceSession {
		t.Fatal("the reference session has no id to replace")
	}
	f.mu.Lock()
	f.sessionBody = `{"offset":0,"limit":1,"results":[` + session + `]}`
	f.mu.Unlock()
	p, err := c.ListSessions(context.Background(), ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sessions) != 1 {
		t.Fatalf("listed sessions = %+v", p.Sessions)
	}
	got := p.Sessions[0]
	if got.ID != "<secret>" || !strings.HasPrefix(string(got.RetrievalID), "x<secret>") {
		t.Errorf("id %q, retrievalId %q: want the password masked", got.ID, got.RetrievalID)
	}
	assertNoSecret(t, strings.ToLower(string(got.ID)+string(got.RetrievalID)), strings.ToLower(testPassword))
}

// net/http quotes a malformed status line in its error: that text is the server's too.
func TestMalformedStatusLineIsScrubbed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.ReadAll(io.LimitReader(conn, 1)) // wait for the request
			_, _ = conn.Write([]byte("HTTP/1.1 " + url.QueryEscape(echoPassword) + " OK\r\n\r\n"))
			conn.Close()
		}
	}()
	c, err := New(Options{BaseURL: "http://" + ln.Addr().String(), Username: testUser,
		Password: func() string { return echoPassword }, HTTPClient: &http.Client{Transport: &http.Transport{}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSession(context.Background(), refID)
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "<secret>") {
		t.Errorf("the status line is not quoted; nothing to check: %v", err)
	}
	assertNoSecret(t, err.Error(), echoPassword)
}

// Data retrieval names become labels and page text like session names: scrubbed too, in
// every form the server may echo the password in.
func TestRetrievalTextsAreScrubbed(t *testing.T) {
	s := newSimClientPassword(t, 5*time.Second, echoPassword)
	if err := s.sim.AddDataRetrieval(simulator.DataRetrieval{ID: "0e2e0000-0000-4000-8000-00000000aaaa",
		Name: "pw " + url.QueryEscape(echoPassword) + " plain " + echoPassword, Type: "Exchange", DataState: "Retrieved"}); err != nil {
		t.Fatal(err)
	}
	list, _, _, err := s.client.ListRetrievals(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range list {
		if r.ID == "0e2e0000-0000-4000-8000-00000000aaaa" {
			found = true
			if r.Name != "pw <secret> plain <secret>" {
				t.Errorf("retrieval name = %q", r.Name)
			}
		}
	}
	if !found {
		t.Fatalf("retrieval not listed: %+v", list)
	}
}

// Every page of a listing (discovery, list reads, the sessions command) is scrubbed like a
// single read: the names become labels.
func TestListedSessionTextsAreScrubbed(t *testing.T) {
	s := newSimClientPassword(t, 5*time.Second, echoPassword)
	if err := s.sim.UpdateSession(simulator.ReferenceSessionID, func(sess *simulator.Session) {
		sess.Name = "pw " + url.QueryEscape(echoPassword)
	}); err != nil {
		t.Fatal(err)
	}
	found := false
	err := s.client.ListAllSessions(context.Background(), "", 3, 0, func(p *Page) error {
		for _, sess := range p.Sessions {
			if sess.ID == simulator.ReferenceSessionID {
				found = true
				if sess.Name != "pw <secret>" {
					t.Errorf("listed session name = %q", sess.Name)
				}
			}
		}
		return nil
	})
	if err != nil || !found {
		t.Fatalf("listing: found=%v err=%v", found, err)
	}
}

// A token endpoint that answers 200 with an HTML login page (a reverse proxy or SSO portal
// in front of VB365), or with JSON that is no token, is backed off like refused
// credentials: 40 sessions read in each of six scrapes a minute apart cost a handful of
// token requests, not some on every scrape (issue 17). The error says what came back,
// quoting only what is not JSON (JSON may hold a token).
func TestTokenLoginPageIsBackedOff(t *testing.T) {
	for _, tc := range []struct {
		fault simulator.Fault
		want  string
	}{
		{simulator.Fault{Endpoint: simulator.EndpointToken, Kind: simulator.FaultNonJSON, Status: http.StatusOK},
			`token: malformed answer: token answer: not valid JSON: Content-Type "text/html; charset=utf-8", starting "<!DOCTYPE html> <html><head><title>200 OK</title></head>`},
		{simulator.Fault{Endpoint: simulator.EndpointToken, Kind: simulator.FaultMalformed},
			`token: malformed answer: token answer: not valid JSON (Content-Type "application/json; charset=utf-8", `},
	} {
		t.Run(tc.fault.Kind, func(t *testing.T) {
			s := newSimClient(t, 5*time.Second)
			s.fault(t, tc.fault)
			for scrape := range 6 {
				var wg sync.WaitGroup
				errs := make(chan error, 40)
				for range 40 {
					wg.Go(func() {
						_, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID)
						errs <- err
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !IsClientWide(err) {
						t.Errorf("scrape %d: err = %v, want a client-wide error starting %q", scrape, err, tc.want)
						break
					}
				}
				s.clk.Add(time.Minute)
			}
			// Backoff 30 s, 1, 2, 4 min: requests at 0, 1, 2 and 4 minutes.
			if n := s.tokens.Load(); n < 1 || n > 4 {
				t.Errorf("token requests for 6 scrapes of 40 sessions = %d, want 1..4", n)
			}
			s.sim.ClearFaults()
			s.clk.Add(10 * time.Minute)
			if _, err := s.client.GetSession(context.Background(), simulator.ReferenceSessionID); err != nil {
				t.Errorf("after recovery and the backoff: %v", err)
			}
		})
	}
}

// What a login page says is quoted scrubbed: a page that echoes the form shows no password.
func TestTokenLoginPageQuotedScrubbed(t *testing.T) {
	const password = "Pa55-login-page!"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html>\n\n<p>Welcome back, your password %s is\x1b[2J wrong</p>", password)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, APIVersion: "v8", Username: testUser,
		Password: func() string { return password }, HTTPClient: srv.Client(), MaxConcurrent: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSession(context.Background(), simulator.ReferenceSessionID)
	if err == nil || strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "\x1b") ||
		!strings.Contains(err.Error(), `Content-Type "text/html", starting "<html> <p>Welcome back, your password`) {
		t.Fatalf("err = %v", err)
	}
}
