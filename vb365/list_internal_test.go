package vb365

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestMorePages(t *testing.T) {
	c, err := New(Options{BaseURL: "https://vb365.example:4443"})
	if err != nil {
		t.Fatal(err)
	}
	total := func(n int) *int { return &n }
	for _, tc := range []struct {
		name                        string
		n, limit, offset, pageLimit int
		total                       *int
		next                        string
		want                        bool
	}{
		{name: "empty page ends whatever it claims", n: 0, limit: 10, total: total(50), next: "/v8/x?offset=10", want: false},
		{name: "full page, nothing said", n: 10, limit: 10, offset: 10, want: true},
		{name: "short page, nothing said", n: 7, limit: 10, offset: 7, want: false},
		{name: "short page, total says more", n: 7, limit: 10, offset: 7, total: total(25), want: true},
		{name: "full page, total reached", n: 10, limit: 10, offset: 20, total: total(20), want: false},
		{name: "short page, relative next", n: 7, limit: 10, offset: 7, next: "/v8/DataRetrievalSessions?offset=7&limit=7", want: true},
		{name: "short page, next on the configured origin", n: 7, limit: 10, offset: 7, next: "HTTPS://VB365.example:4443/v8/DataRetrievalSessions?offset=7", want: true},
		{name: "short page, next elsewhere", n: 7, limit: 10, offset: 7, next: "https://evil.example/v8/DataRetrievalSessions?offset=7", want: false},
		{name: "short page, next on another port", n: 7, limit: 10, offset: 7, next: "https://vb365.example:8443/x", want: false},
		{name: "short page, next over http", n: 7, limit: 10, offset: 7, next: "http://vb365.example:4443/x", want: false},
		{name: "page full by its own limit", n: 7, limit: 10, offset: 7, pageLimit: 7, want: true},
		{name: "page short of its own limit", n: 5, limit: 10, offset: 5, pageLimit: 7, want: false},
		{name: "page limit above ours is not believed", n: 10, limit: 10, offset: 10, pageLimit: 50, want: true},
	} {
		if got := c.morePages(tc.n, tc.limit, tc.offset, tc.pageLimit, tc.total, tc.next); got != tc.want {
			t.Errorf("%s: more = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Strings from the server are cut where they become labels and log fields, at a rune
// boundary, and the cut value does not keep the long one alive.
func TestDecodeBoundsStrings(t *testing.T) {
	long := strings.Repeat("é", 3<<10) // 6 KiB, two bytes a rune: a cut at an odd byte must back off
	enum := strings.Repeat("x", 1<<20)
	page := fmt.Sprintf(`{"offset":0,"limit":10,"results":[{"id":"%s","name":"%s","retrievalId":"%s","creationTime":"2026-01-01T00:00:00Z","type":"%s","status":"%s"}]}`,
		"A"+strings.Repeat("b", 100), long, strings.Repeat("r", 100), enum, enum)
	p, err := DecodePage([]byte(page))
	if err != nil || len(p.Sessions) != 1 {
		t.Fatalf("%v, %+v", err, p)
	}
	s := p.Sessions[0]
	for _, f := range []struct {
		name, v string
		max     int
	}{{"id", string(s.ID), maxIDBytes}, {"name", s.Name, MaxNameBytes}, {"retrievalId", string(s.RetrievalID), maxIDBytes}, {"type", s.Type, MaxEnumBytes}, {"status", s.Status, MaxEnumBytes}} {
		if len(f.v) > f.max || len(f.v) < f.max-3 || !utf8.ValidString(f.v) {
			t.Errorf("%s: %d bytes (valid UTF-8 %v), want at most %d", f.name, len(f.v), utf8.ValidString(f.v), f.max)
		}
	}
	rr, err := (&wireRetrieval{ID: "x", Name: long, Type: enum, DataState: enum, LastStatus: enum}).toRetrieval(masks{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Name) > MaxNameBytes || len(rr.Type) > MaxEnumBytes || len(rr.DataState) > MaxEnumBytes || len(rr.LastStatus) > MaxEnumBytes || !utf8.ValidString(rr.Name) {
		t.Errorf("retrieval strings not bounded: %d, %d, %d, %d bytes", len(rr.Name), len(rr.Type), len(rr.DataState), len(rr.LastStatus))
	}
}

func hugeRetrievalBody(n int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"dddddddd-0000-4000-8000-%012d","name":"retrieval %d","type":"Exchange","dataState":"Retrieved","lastStatus":"Success"}`, i, i)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// What decoding a list allocates follows what is kept, not what was sent: 100 times the
// entries, with the same number kept, costs about the same allocations.
func TestDecodeAllocationsFollowKept(t *testing.T) {
	small, large := hugeRetrievalBody(1000), hugeRetrievalBody(100000)
	allocs := func(body []byte) float64 {
		return testing.AllocsPerRun(3, func() {
			var st ListStats
			kept := 0
			info, err := decodeAnswer(context.Background(), body, 100, &kept, &st, masks{}, (*wireRetrieval).check)
			if err != nil || kept != 100 || st.Dropped != info.count-100 {
				t.Fatalf("%v: kept %d, %+v", err, kept, st)
			}
		})
	}
	a, b := allocs(small), allocs(large)
	if b > a+100 {
		t.Errorf("decoding 100,000 entries keeping 100 made %.0f allocations, 1,000 entries %.0f: they grow with what was sent", b, a)
	}
}

// Decoding stops at the deadline, between entries.
func TestDecodeStopsAtDeadline(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	var st ListStats
	kept := 0
	_, err := decodeAnswer(ctx, hugeRetrievalBody(10), 5, &kept, &st, masks{}, (*wireRetrieval).check)
	if !errors.Is(err, errDeadline) {
		t.Errorf("err = %v, want the deadline", err)
	}
	_, err = decodePage(ctx, []byte(`{"results":[]}`), 5, masks{})
	if !errors.Is(err, errDeadline) {
		t.Errorf("page err = %v, want the deadline", err)
	}
}

// A server that sends more than the limit asked for has the rest counted, not decoded: the
// next page asks for them again.
func TestDecodePageKeepsAtMostLimit(t *testing.T) {
	var items []string
	for i := range 25 {
		items = append(items, fmt.Sprintf(`{"id":"00000000-0000-4000-8000-%012d","creationTime":"2026-01-01T00:00:00Z"}`, i))
	}
	p, err := decodePage(context.Background(), []byte(`{"results":[`+strings.Join(items, ",")+`],"offset":0,"limit":10}`), 10, masks{})
	if err != nil || len(p.Sessions) != 10 || p.Skipped != 15 || p.Limit != 10 {
		t.Errorf("err %v, %d sessions, %d skipped, limit %d; want 10, 15, 10", err, len(p.Sessions), p.Skipped, p.Limit)
	}
	p, err = DecodePage([]byte(`{"results":[],"_links":[1,2]}`))
	if err != nil || p.Next != "" {
		t.Errorf("links of another shape: %v, next %q; want them ignored", err, p.Next)
	}
	for _, bad := range []string{`{"results":[],"Results":[]}`, `{"results":[]} []`, `"x"`, `{"results":{}}`, `{"offset":0}`} {
		if _, err := DecodePage([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// check converts an entry as ListRetrievals does, keeping nothing.
func (w *wireRetrieval) check(m masks) error {
	_, err := w.toRetrieval(m)
	return err
}
