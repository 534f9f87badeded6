package vb365

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{in: "2022-01-28T20:52:36.9177053+01:00", want: time.Date(2022, 1, 28, 19, 52, 36, 917705300, time.UTC)},
		{in: "2022-01-28T19:52:36.9177053Z", want: time.Date(2022, 1, 28, 19, 52, 36, 917705300, time.UTC)},
		{in: "2022-01-28T19:52:36Z", want: time.Date(2022, 1, 28, 19, 52, 36, 0, time.UTC)},
		{in: "2022-01-28T19:52:36.9177053", want: time.Date(2022, 1, 28, 19, 52, 36, 917705300, time.UTC)},
		{in: "0001-01-01T00:00:00"},
		{in: "0001-01-01T00:00:00Z"},
		{in: "0001-01-01T00:00:00+00:00"},
		{in: ""},
		{in: "yesterday", err: true},
		{in: "2022-13-28T19:52:36Z", err: true},
	} {
		got, err := ParseTime(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseTime(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// The example of Veeam's reference page for GET /v6/DataRetrievalSessions/{id}.
const referenceSession = `{
 "id": "668f478c-0326-440a-8bdf-58cf39163ea2",
 "name": "Exchange data retrieval",
 "retrievalId": "8a76872b-7f2c-4c50-95f4-92c4d41bc47c",
 "creationTime": "2022-01-28T20:52:36.9177053+01:00",
 "endTime": "2022-01-28T20:56:17.7513457+01:00",
 "progress": 5,
 "processedObjects": 37,
 "type": "Retrieve",
 "status": "Success",
 "_links": {"self": {"href": "/v6/dataRetrievalSessions/8a76872b-7f2c-4c50-95f4-92c4d41bc47c"}}
}`

func TestDecodeReferenceSession(t *testing.T) {
	s, err := DecodeSession([]byte(referenceSession))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "668f478c-0326-440a-8bdf-58cf39163ea2" || s.Name != "Exchange data retrieval" ||
		s.RetrievalID != "8a76872b-7f2c-4c50-95f4-92c4d41bc47c" || s.Progress != 5 ||
		s.ProcessedObjects != 37 || s.Type != "Retrieve" || s.Status != "Success" {
		t.Errorf("decoded %+v", s)
	}
	if got := s.Duration(time.Now()).Seconds(); got != 220.8336404 {
		t.Errorf("duration = %v s, want 220.8336404", got)
	}
	if !s.Final() {
		t.Error("a Success session with an end time must be final")
	}
}

func TestDecodeSessionNotEnded(t *testing.T) {
	base := `{"id":"668F478C-0326-440A-8BDF-58CF39163EA2","creationTime":"2022-01-28T20:52:36.9177053+01:00","status":"Running","type":"RetrievalChangeAvailabilityPeriodDays,"%s}`
	for name, end := range map[string]string{
		"null":   `,"endTime":null`,
		"absent": ``,
		"zero":   `,"endTime":"0001-01-01T00:00:00"`,
	} {
		t.Run(name, func(t *testing.T) {
			s, err := DecodeSession([]byte(sprintf(base, end)))
			if err != nil {
				t.Fatal(err)
			}
			if s.Ended() || s.Final() {
				t.Errorf("session with endTime %s counts as ended", name)
			}
			if s.ID != "668f478c-0326-440a-8bdf-58cf39163ea2" {
				t.Errorf("id not normalised to lower case: %s", s.ID)
			}
			if s.Type != "RetrievalChangeAvailabilityPeriodDays" {
				t.Errorf("type = %q", s.Type)
			}
		})
	}
}

func TestDecodeSessionRejects(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `<html>`,
		"no id":         `{"creationTime":"2022-01-28T20:52:36.9177053+01:00"}`,
		"blank id":      `{"id":" \t\u200b ","creationTime":"2022-01-28T20:52:36.9177053+01:00"}`,
		"no creation":   `{"id":"668f478c-0326-440a-8bdf-58cf39163ea2"}`,
		"bad time":      `{"id":"668f478c-0326-440a-8bdf-58cf39163ea2","creationTime":"soon"}`,
		"number time":   `{"id":"668f478c-0326-440a-8bdf-58cf39163ea2","creationTime":12}`,
		"string count":  `{"id":"668f478c-0326-440a-8bdf-58cf39163ea2","creationTime":"2022-01-28T20:52:36Z","progress":"5"}`,
		"truncated":     referenceSession[:80],
		"array":         `[]`,
		"empty":         ``,
		"null document": `null`,
	} {
		if _, err := DecodeSession([]byte(body)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestDecodePageKeepsGoodEntries(t *testing.T) {
	page := `{"offset":0,"limit":30,"setId":"0e3c3fd6-1f47-4b52-8d0f-3c2b4fbc0e8a","totalCount":2,"results":[` +
		referenceSession + `,{"id":"broken"}],"_links":{}}`
	p, err := DecodePage([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sessions) != 1 || p.Sessions[0].ID != "668f478c-0326-440a-8bdf-58cf39163ea2" {
		t.Errorf("sessions = %+v", p.Sessions)
	}
	if len(p.Invalid) != 1 {
		t.Errorf("invalid = %v, want one", p.Invalid)
	}
	if p.TotalCount == nil || *p.TotalCount != 2 {
		t.Errorf("totalCount = %v", p.TotalCount)
	}
	if _, err := DecodePage([]byte(`{"offset":0}`)); err == nil {
		t.Error("a page without results decoded")
	}
}
