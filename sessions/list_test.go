package sessions

import "testing"

func TestPrintable(t *testing.T) {
	if got := printable("a\nb\r\tc\x1b[31m\u2028d\u0085e"); got != "a b  c [31m d e" {
		t.Errorf("printable = %q", got)
	}
}
