package vb365_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

func TestListRetrievalsAgainstSimulator(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			sim := simulator.New(simulator.Options{Username: "u", Password: "p4ssw0rd", Now: func() time.Time { return now }})
			sim.LoadDemoData()
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c, err := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: version, Username: "u", Password: func() string { return "p4ssw0rd" }})
			if err != nil {
				t.Fatal(err)
			}
			list, invalid, _, err := c.ListRetrievals(context.Background(), 1000)
			if err != nil || invalid != 0 {
				t.Fatalf("ListRetrievals: %v (invalid %d)", err, invalid)
			}
			sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
			want := []vb365.Retrieval{
				{ID: simulator.DemoOneDriveRetrievalID, Name: "OneDrive retrieval", Type: "OneDrive", DataState: "Retrieving", LastStatus: "Running"},
				{ID: simulator.ReferenceRetrievalID, Name: "Exchange retrieval", Type: "Exchange", DataState: "Retrieved", LastStatus: "Success",
					ExpirationTime: now.Add(7 * 24 * time.Hour)},
				{ID: simulator.DemoTeamsRetrievalID, Name: "Teams retrieval", Type: "Teams", DataState: "Retrieving", LastStatus: "Running"},
			}
			if len(list) != len(want) {
				t.Fatalf("got %d retrievals, want %d: %+v", len(list), len(want), list)
			}
			for i := range want {
				got := list[i]
				if !got.ExpirationTime.Equal(want[i].ExpirationTime) {
					t.Errorf("%s expiration %v, want %v", got.ID, got.ExpirationTime, want[i].ExpirationTime)
				}
				got.ExpirationTime = want[i].ExpirationTime
				if got != want[i] {
					t.Errorf("retrieval %d:\n got %+v\nwant %+v", i, got, want[i])
				}
			}
			if n := sim.Stats().ByEndpoint["retrievals"]; n != 1 {
				t.Errorf("retrievals requests = %d, want 1", n)
			}
		})
	}
}

// pagedRetrievals serves n retrievals as v8 pages, never more than max per page whatever
// the request asks for, as a server with a lower page cap would.
type pagedRetrievals struct {
	n, max  int
	queries []string
}

func (f *pagedRetrievals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(r.URL.Path, "/token") {
		fmt.Fprint(w, `{"access_token":"access-token-1","refresh_token":"refresh-token-1","token_type":"bearer","expires_in":3600}`)
		return
	}
	f.queries = append(f.queries, r.URL.RawQuery)
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	var items []string
	for i := offset; i < f.n && len(items) < f.max; i++ {
		items = append(items, fmt.Sprintf(`{"id":"00000000-0000-4000-8000-%012d","name":"r%d","type":"Teams","dataState":"Retrieved","lastStatus":"Failed","expirationTime":null}`, i, i))
	}
	if offset == 0 {
		// One broken entry must not hide the others.
		items = append(items[:len(items)-2], `{"name":"no id"}`, `{"id":"\u0007 ","name":"blank id"}`)
	}
	fmt.Fprintf(w, `{"offset":%d,"limit":%d,"results":[%s]}`, offset, f.max, strings.Join(items, ","))
}

func TestListRetrievalsFollowsV8Pages(t *testing.T) {
	f := &pagedRetrievals{n: 7, max: 3}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, _ := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: "v8", Username: "u", Password: func() string { return "p4ssw0rd" }})
	list, invalid, _, err := c.ListRetrievals(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 5 || invalid != 2 {
		t.Errorf("got %d retrievals and %d invalid, want 5 and 2", len(list), invalid)
	}
	if want := []string{"limit=10000&offset=0", "limit=10000&offset=3", "limit=10000&offset=6"}; strings.Join(f.queries, " ") != strings.Join(want, " ") {
		t.Errorf("queries %v, want %v", f.queries, want)
	}
	for _, r := range list {
		if !r.ExpirationTime.IsZero() || r.LastStatus != "Failed" || r.Type != "Teams" {
			t.Errorf("decoded %+v", r)
		}
	}
}

// Either shape of the answer is read whatever the version; a broken entry hides no other.
func TestListRetrievalsAnswers(t *testing.T) {
	cases := []struct {
		name, body, wantErr string
		wantN, invalid      int
	}{
		{name: "bare array", body: ` [{"id":"A0000000-0000-4000-8000-000000000000","name":"x"}]`, wantN: 1},
		{name: "empty array", body: `[]`},
		{name: "page", body: `{"offset":0,"limit":30,"results":[{"id":"a0000000-0000-4000-8000-000000000000"}]}`, wantN: 1},
		{name: "page without results", body: `{"offset":0}`, wantErr: "retrievals: malformed answer: no results field"},
		{name: "not JSON", body: `<html>`, wantErr: "retrievals: malformed answer"},
		{name: "bad expiration", body: `[{"id":"a0000000-0000-4000-8000-000000000000","expirationTime":"soon"},{"id":"b"}]`, wantN: 1, invalid: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/token") {
					fmt.Fprint(w, `{"access_token":"access-token-1","refresh_token":"refresh-token-1","expires_in":3600}`)
					return
				}
				fmt.Fprint(w, c.body)
			}))
			defer srv.Close()
			cl, _ := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: "v7", Username: "u", Password: func() string { return "p4ssw0rd" }})
			list, invalid, _, err := cl.ListRetrievals(context.Background(), 10)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || len(list) != c.wantN || invalid != c.invalid {
				t.Fatalf("%v: %d retrievals, %d invalid; want %d, %d", err, len(list), invalid, c.wantN, c.invalid)
			}
			for _, r := range list {
				if string(r.ID) != strings.ToLower(string(r.ID)) {
					t.Errorf("id %s not lower-cased", r.ID)
				}
			}
		})
	}
}

func TestListRetrievalsErrors(t *testing.T) {
	sim := simulator.New(simulator.Options{Username: "u", Password: "p4ssw0rd"})
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRetrievals, Kind: simulator.FaultStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, _ := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: "v7", Username: "u", Password: func() string { return "p4ssw0rd" }})
	_, _, _, err := c.ListRetrievals(context.Background(), 1000)
	var apiErr *vb365.APIError
	if !errors.As(err, &apiErr) || apiErr.Endpoint != "retrievals" || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("err = %#v, want a 503 APIError for the retrievals endpoint", err)
	}
}

// v6 and v7 are not asked for pages (no offset is sent), so a server that answers with a
// page anyway is read once, not asked for the same page again and again.
func TestListRetrievalsPagesOnlyOnV8(t *testing.T) {
	f := &pagedRetrievals{n: 7, max: 3}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, _ := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: "v7", Username: "u", Password: func() string { return "p4ssw0rd" }})
	list, invalid, _, err := c.ListRetrievals(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.queries) != 1 || len(list) != 1 || invalid != 2 {
		t.Errorf("%d requests (%v), %d retrievals, %d invalid; want 1, 1, 2", len(f.queries), f.queries, len(list), invalid)
	}
}
