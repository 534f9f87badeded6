package vb365

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// onlyVersions serves the simulator for the given API versions and 404 for the others, as
// a server of one version does.
func onlyVersions(t *testing.T, versions ...string) (string, func() map[string]int) {
	t.Helper()
	sim := simulator.New(simulator.Options{Username: testUser, Password: testPassword})
	sim.LoadDemoData()
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method+" "+r.URL.Path]++
		mu.Unlock()
		for _, v := range versions {
			if strings.HasPrefix(r.URL.Path, "/"+v+"/") {
				sim.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"No HTTP resource was found that matches the request URI."}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range seen {
			out[k] = v
		}
		return out
	}
}

// A v6 server configured as v8 (issue 20 point 1): the 404 says api_version may be wrong and
// which versions the server answers, probed once, without credentials.
func TestWrongAPIVersionNamesTheOnesServed(t *testing.T) {
	for _, tc := range []struct {
		serves []string
		want   string
	}{
		{[]string{"v6"}, "token: HTTP 404 Not Found: No HTTP resource was found that matches the request URI.; api_version v8 may be wrong: the server answers v6 at this url (set api_version: v6)"},
		{nil, "api_version v8 may be wrong: no other API version (v6, v7, v8) answers at this url either (check url)"},
	} {
		url, seen := onlyVersions(t, tc.serves...)
		c, err := New(Options{BaseURL: url, APIVersion: "v8", Username: testUser,
			Password: func() string { return testPassword }, MaxConcurrent: 4})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			_, err := c.GetSession(context.Background(), simulator.ReferenceSessionID)
			if err == nil || !strings.Contains(err.Error(), tc.want) || Reason(err) != "api_version not served" {
				t.Fatalf("serving %v: err = %v (reason %q), want %q", tc.serves, err, Reason(err), tc.want)
			}
		}
		got := seen()
		if got["POST /v8/token"] != 3 || got["POST /v6/token"] != 1 || got["POST /v7/token"] != 1 || len(got) != 3 {
			t.Errorf("serving %v: requests %v, want 3 token requests and one probe of v6 and v7", tc.serves, got)
		}
	}
}

// The probe carries no credentials: only the configured version's token request does.
func TestVersionProbeSendsNoSecret(t *testing.T) {
	var mu sync.Mutex
	var probes []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if !strings.HasPrefix(r.URL.Path, "/v8/") {
			mu.Lock()
			probes = append(probes, r.PostForm.Encode()+" "+r.Header.Get("Authorization"))
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, APIVersion: "v8", Username: testUser,
		Password: func() string { return testPassword }, MaxConcurrent: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.GetSession(context.Background(), simulator.ReferenceSessionID)
	if len(probes) != 2 || probes[0] != "grant_type=password " || probes[1] != "grant_type=password " {
		t.Errorf("probes = %q, want two bare grant_type=password forms", probes)
	}
}
