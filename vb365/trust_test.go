package vb365

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
