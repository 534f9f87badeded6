package vb365

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets check properties that hold for any input, not just "no panic": a decoded
// session is always usable by the collector (id, creation time), re-encoding it gives the
// same session back, and a page never loses an entry silently. Seeds live in
// testdata/fuzz/<target>/ and are also run by plain `go test`.

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2022-01-28T20:52:36.9177053+01:00",
		"2022-01-28T19:52:36Z",
		"2022-01-28T19:52:36.9177053",
		"0001-01-01T00:00:00",
		"",
		"9999-12-31T23:59:59.9999999-23:59",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			if !got.IsZero() {
				t.Fatalf("ParseTime(%q) returned %v with error %v", s, got, err)
			}
			// The input is quoted after truncation to 64 bytes; quoting makes a byte at most
			// four (\xNN). A longer error means the input went in whole.
			if len(err.Error()) > 64*4+100 {
				t.Fatalf("error for a %d-byte input is %d bytes: the input must be truncated", len(s), len(err.Error()))
			}
			return
		}
		if got.IsZero() {
			return
		}
		if got.Year() <= 1 {
			t.Fatalf("ParseTime(%q) = %v: year 1 must mean no time", s, got)
		}
		// What the exporter prints (and a server could send back) must parse to the same instant.
		again, err := ParseTime(got.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(got) {
			t.Fatalf("round trip of %q: %v, %v (want %v)", s, again, err, got)
		}
	})
}

func FuzzDecodeSession(f *testing.F) {
	f.Add([]byte(referenceSession))
	f.Add([]byte(`{"id":"A","creationTime":"2022-01-28T20:52:36.9177053+01:00","endTime":null,"status":"Running"}`))
	f.Add([]byte(`{"id":"a","creationTime":"2022-01-28T20:52:36","endTime":"0001-01-01T00:00:00","progress":-1}`))
	f.Add([]byte(`{"id":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"id":"a","creationTime":12}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := DecodeSession(body)
		if err != nil {
			if len(err.Error()) > 1024 {
				t.Fatalf("error for a %d-byte body is %d bytes long", len(body), len(err.Error()))
			}
			return
		}
		if s.ID == "" || string(s.ID) != strings.ToLower(string(s.ID)) {
			t.Fatalf("decoded id %q: want non-empty lower case", s.ID)
		}
		if s.CreationTime.IsZero() {
			t.Fatal("decoded a session without creation time")
		}
		if s.Final() && !s.Ended() {
			t.Fatal("a final session must have ended")
		}
		_ = s.Duration(time.Now()) // must not panic for any decoded times

		again, err := DecodeSession(encodeSession(t, s))
		if err != nil {
			t.Fatalf("re-decoding %+v: %v", s, err)
		}
		if !sameSession(s, again) {
			t.Fatalf("round trip changed the session:\n%+v\n%+v", s, again)
		}
	})
}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"offset":0,"limit":30,"setId":"x","totalCount":1,"results":[` + referenceSession + `]}`))
	f.Add([]byte(`{"offset":5,"limit":2,"results":[{"id":"a"},` + referenceSession + `,null]}`))
	f.Add([]byte(`{"offset":0,"limit":30,"results":null}`))
	f.Add([]byte(`{"results":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if err != nil {
			if p != nil {
				t.Fatal("a page with an error")
			}
			return
		}
		var w struct {
			Results []json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatalf("DecodePage accepted a body encoding/json refuses: %v", err)
		}
		if got := len(p.Sessions) + len(p.Invalid); got != len(w.Results) {
			t.Fatalf("%d results became %d sessions + %d invalid", len(w.Results), len(p.Sessions), len(p.Invalid))
		}
		for _, s := range p.Sessions {
			if s.ID == "" || s.CreationTime.IsZero() {
				t.Fatalf("page holds an unusable session %+v", s)
			}
		}
	})
}

func encodeSession(t *testing.T, s Session) []byte {
	t.Helper()
	w := map[string]any{
		"id": s.ID, "name": s.Name, "retrievalId": s.RetrievalID, "type": s.Type, "status": s.Status,
		"progress": s.Progress, "processedObjects": s.ProcessedObjects,
		"creationTime": s.CreationTime.Format(time.RFC3339Nano),
		"endTime":      nil,
	}
	if s.Ended() {
		w["endTime"] = s.EndTime.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameSession(a, b Session) bool {
	return a.ID == b.ID && a.Name == b.Name && a.RetrievalID == b.RetrievalID && a.Type == b.Type &&
		a.Status == b.Status && a.Progress == b.Progress && a.ProcessedObjects == b.ProcessedObjects &&
		a.CreationTime.Equal(b.CreationTime) && a.EndTime.Equal(b.EndTime)
}

// FuzzScrub: whatever surrounds it, no form of a secret that a server could echo (plain,
// query-escaped, path-escaped, JSON-escaped) is left in the scrubbed text. A secret of
// fewer than pieceLen bytes is masked only as a whole token: it is set between spaces.
func FuzzScrub(f *testing.F) {
	f.Add("password=", "Sup3r$ecret&Pa55 w0rd!")
	f.Add(`{"message":"`, `Sup3r%24ecret\u0026Pa55+w0rd%21`)
	f.Add("%", "%41%%")
	f.Fuzz(func(t *testing.T, text, secret string) {
		if len(normalise(secret)) < 4 || !utf8.ValidString(secret) || strings.ContainsAny(secret, "<>") {
			t.Skip("the mask is <secret>; a secret must be text long enough to mask")
		}
		if strings.TrimSpace(secret) != secret {
			t.Skip("white space around a secret is not part of it (texts are normalised), and is everywhere")
		}
		js, _ := json.Marshal(secret)
		forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), string(js[1 : len(js)-1])}
		sep, short := text, len(normalise(secret)) < pieceLen
		if short {
			sep = " " + text + " "
		}
		in := sep + strings.Join(forms, sep) + sep
		out := Scrub(in, secret)
		// The mask itself may contain a short secret ("ecre"): look between the masks.
		for _, piece := range strings.Split(out, secretMask) {
			for _, form := range forms {
				if short && hasToken(piece, form) || !short && strings.Contains(piece, form) {
					t.Fatalf("Scrub(%q) = %q still holds %q", in, out, form)
				}
			}
		}
	})
}

// hasToken reports whether s holds tok as a whole token: not inside a word (the text around
// the forms may hold the secret's letters, as any text does).
func hasToken(s, tok string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], tok)
		if j < 0 {
			return false
		}
		j += i
		if (j == 0 || !isWordByte(s[j-1])) && (j+len(tok) == len(s) || !isWordByte(s[j+len(tok)])) {
			return true
		}
		i = j + 1
	}
}
