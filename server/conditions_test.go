package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-kit/log"
)

// A condition is logged when it appears and when it clears, once each. A scrape that could
// not tell (its list was not read, a nil line) neither clears it nor starts it: a failed
// read between two dropping ones must not log "cleared" and then warn again.
func TestTrackerLogsTransitionsOnly(t *testing.T) {
	var buf bytes.Buffer
	logger := log.NewLogfmtLogger(&buf)
	var tr tracker
	for _, now := range []conditions{
		{"retrievals: dropping": {"msg", "dropping"}},
		{"retrievals: dropping": nil, "retrievals: HTTP 500": {"msg", "not read"}},
		{"retrievals: dropping": {"msg", "dropping"}},
		{"discovery: dropping": nil}, // unknown and not active: nothing to say
		{},
	} {
		tr.update(logger, now)
	}
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("%d lines, want 4 (two warnings, two cleared):\n%s", n, out)
	}
	for want, n := range map[string]int{
		`msg=dropping`: 1, `msg="not read"`: 1,
		`cause="retrievals: dropping"`: 1, `cause="retrievals: HTTP 500"`: 1, `discovery`: 0,
	} {
		if got := strings.Count(out, want); got != n {
			t.Errorf("%d lines with %s, want %d:\n%s", got, want, n, out)
		}
	}
}
