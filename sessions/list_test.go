package sessions

import (
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

func TestPrintable(t *testing.T) {
	if got := printable("a\nb\r\tc\x1b[31m\u2028d\u0085e"); got != "a b  c [31m d e" {
		t.Errorf("printable = %q", got)
	}
}

// Every cell of the table comes from the server, the ID too: none may move the cursor,
// clear the screen or start a new row.
func TestSessionsTableCellsArePrintable(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	sessions := []vb365.Session{{ID: "abc\x1b[2J\ndef", Name: "n\tame\r", Type: "Retrieve", Status: "Success\x07",
		CreationTime: now.Add(-time.Hour), EndTime: now}}
	var b strings.Builder
	if err := writeSessionsTable(&b, sessions, now); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07\r\t") || strings.Count(out, "\n") != 2 {
		t.Errorf("table:\n%q", out)
	}
	for _, want := range []string{"abc [2J def", "n ame", "Success", "1h0m0s"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
