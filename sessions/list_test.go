package sessions

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vb365-exporter/vb365_exporter/config"
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

// The YAML output is pasted into a config: an ID from the server that is not a UUID is
// shown as a comment, so it can neither add keys nor fail the config.
func TestSessionsYAMLListsOnlyUUIDs(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	sessions := []vb365.Session{
		{ID: "668f478c-0326-440a-8bdf-58cf39163ea2", Name: "good", CreationTime: now},
		{ID: "x\n      password: stolen", Name: "bad", CreationTime: now},
	}
	var b strings.Builder
	if err := writeSessionsYAML(&b, &config.ServerConfig{Name: "prod"}, sessions, &ListOptions{}); err != nil {
		t.Fatal(err)
	}
	var items []string
	if err := yaml.Unmarshal([]byte("sessions:\n"+b.String()), &struct {
		Sessions *[]string `yaml:"sessions"`
	}{&items}); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(items) != 1 || items[0] != "668f478c-0326-440a-8bdf-58cf39163ea2" || strings.Count(b.String(), "\n") != 4 {
		t.Errorf("items %q from:\n%s", items, b.String())
	}
	if !strings.Contains(b.String(), "# not a UUID, cannot be configured: x       password: stolen") {
		t.Errorf("the ID that is not a UUID is not shown:\n%s", b.String())
	}
}
