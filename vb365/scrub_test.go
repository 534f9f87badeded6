package vb365

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Issue 19 point 4: each form of the password that passed before is masked, in the one
// order normalise → scrub → cut.
func TestPasswordFormsAreMasked(t *testing.T) {
	const pw = "Wx7  Qz9-Kp2!m"
	m := masks{newForms(testUser, pw)}
	for name, form := range map[string]string{
		"upper":                  "WX7  QZ9-KP2!M",
		"lower":                  "wx7  qz9-kp2!m",
		"collapsed":              "Wx7 Qz9-Kp2!m",
		"newlines":               "Wx7\r\n\tQz9-Kp2!m",
		"piece":                  "qZ9-kP2!",
		"zero width inside":      "Wx7  Qz9\u200b-Kp2!m",
		"base64":                 base64.StdEncoding.EncodeToString([]byte(pw)),
		"base64 raw url":         base64.RawURLEncoding.EncodeToString([]byte(pw)),
		"base64 basic":           base64.StdEncoding.EncodeToString([]byte(testUser + ":" + pw)),
		"base64 basic raw":       base64.RawStdEncoding.EncodeToString([]byte(testUser + ":" + pw)),
		"percent, lower hex":     "Wx7%20%20Qz9-Kp2%21m",
		"percent, plus":          "Wx7++Qz9-Kp2%21m",
		"JSON":                   `Wx7\u0020 Qz9\u002dKp2!m`,
		"collapsed then escaped": "Wx7+Qz9-Kp2%21M",
	} {
		in := "Logon failed: " + form + " refused"
		if got := m.text(in, 0); got != "Logon failed: <secret> refused" {
			t.Errorf("%s: %q -> %q", name, in, got)
		}
	}
	// Cut after masking: a cut right inside the password leaves no piece of it.
	in := strings.Repeat("x", 190) + " " + pw + " and more"
	if got := m.text(in, MaxReasonBytes); strings.Contains(strings.ToLower(got), "wx7") || !strings.HasSuffix(got, " <secre…") {
		t.Errorf("cut: %q", got)
	}
}

// A secret shorter than a piece is masked only as a whole token: a 1-character password
// used to turn "specified" into "s<secret>ecified".
func TestShortSecretIsMaskedOnlyAsAWholeToken(t *testing.T) {
	for _, tc := range []struct{ secret, in, want string }{
		{"p", "specified", "specified"},
		{"p", "password is p.", "password is <secret>."},
		{"P", "login p failed", "login <secret> failed"},
		{"p4ss", "p4ssword p4ss P4SS", "p4ssword <secret> <secret>"},
		{"p4ss", "pw=p4ss&x=1", "pw=<secret>&x=1"},
		{"p4ss", "pw%3Dp%34ss", "pw%3D<secret>"},
	} {
		if got := Scrub(tc.in, tc.secret); got != tc.want {
			t.Errorf("Scrub(%q, %q) = %q, want %q", tc.in, tc.secret, got, tc.want)
		}
	}
}

// Issue 19 point 7: format characters (zero width, right-to-left override, isolates, byte
// order mark) are dropped from every server string, with no secret involved.
func TestFormatCharactersAreDropped(t *testing.T) {
	in := "Mail\u200bbox \u202eerotser\u2066 one\ufeff\u2069\u00ad\x00\t\n two"
	if got := (masks{}).text(in, 0); got != "Mailbox erotser one two" {
		t.Errorf("%q -> %q", in, got)
	}
}

// A secret split over two consecutive log items: each part is masked, by the edge rules
// (a part of 4 bytes or more) or by the join of the two (a short secret's parts); what is
// left is fewer than 4 bytes of it.
func TestSecretSplitOverLogItems(t *testing.T) {
	for _, tc := range []struct{ pw, a, b, wantA, wantB string }{
		{"Kp2!m9Qz", "Logon with Kp2!", "m9Qz was refused", "Logon with <secret>", "<secret> was refused"},
		{"Kp2!m9Qz", "Logon with Kp2", "!m9Qz was refused", "Logon with Kp2", "<secret> was refused"},
		{"Wx7  Qz9-Kp2!m", "Logon with Wx7 Qz", "9-Kp2!m was refused", "Logon with <secret>", "<secret> was refused"},
		{"Wx7  Qz9-Kp2!m", "Logon with Wx7", "Qz9-Kp2!m was refused", "Logon with Wx7", "<secret> was refused"},
		{"p4ss", "Logon with p4", "ss was refused", "Logon with <secret>", "<secret> was refused"},
		{"Wx7  Qz9-Kp2!m", "Logon with Wx", "Mailbox 9 done", "Logon with Wx", "Mailbox 9 done"},
	} {
		m := masks{newForms(testUser, tc.pw)}
		items := []LogItem{{Message: m.text(tc.a, 0)}, {Message: m.text(tc.b, 0)}}
		m.splits(items)
		if items[0].Message != tc.wantA || items[1].Message != tc.wantB {
			t.Errorf("%q | %q -> %q | %q", tc.a, tc.b, items[0].Message, items[1].Message)
		}
	}
}

// The forms of the secrets are made once, and again only when a secret changes.
func TestSecretFormsAreMadeOnce(t *testing.T) {
	pw := "first-Passw0rd"
	c, err := New(Options{BaseURL: "http://127.0.0.1:1", Username: testUser, Password: func() string { return pw }})
	if err != nil {
		t.Fatal(err)
	}
	f := c.masks().f
	if c.masks().f != f {
		t.Error("forms made again with no secret changed")
	}
	c.mu.Lock()
	c.token = &token{access: "access-token-1", refresh: "refresh-token-1"}
	c.mu.Unlock()
	g := c.masks().f
	if g == f || c.Scrub("ACCESS-TOKEN-1") != "<secret>" || c.masks().f != g {
		t.Error("a new token is not masked, or its forms are made every time")
	}
	pw = "second-Passw0rd"
	if c.masks().f == g || c.Scrub("SECOND-passw0rd") != "<secret>" {
		t.Error("a new password is not masked")
	}
}
