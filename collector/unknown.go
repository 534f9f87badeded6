package collector

import (
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// unknownStatuses remembers the status values already warned about: a future server version
// with a new status should produce one log line, not one per scrape.
var unknownStatuses = &unknownValues{}

// maxUnknownValues bounds the values remembered for "warn once". A real server adds a
// status now and then; a hostile one sends a new value on every read, and must not be
// able to grow the exporter's memory or its log without end.
const maxUnknownValues = 100

// unknownValues is a bounded "warn once" set: each distinct value is logged once, up to
// maxUnknownValues of them, then one line says that further ones are not logged.
type unknownValues struct {
	mu   sync.Mutex
	seen map[string]struct{}
	full bool
}

// warn logs value under key, cut to vb365.MaxEnumBytes, the first time it is seen while
// the set has room.
func (u *unknownValues) warn(logger log.Logger, msg, key, value string, keyvals ...any) {
	value = vb365.Cut(labelValue(value), vb365.MaxEnumBytes)
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.seen[value]; ok || u.full {
		return
	}
	if len(u.seen) >= maxUnknownValues {
		u.full = true
		level.Warn(logger).Log("msg", "too many unknown values; further ones are not logged", "remembered", len(u.seen))
		return
	}
	if u.seen == nil {
		u.seen = map[string]struct{}{}
	}
	u.seen[value] = struct{}{}
	level.Warn(logger).Log(append([]any{"msg", msg, key, value}, keyvals...)...)
}

func (u *unknownValues) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}
