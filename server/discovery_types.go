package server

import (
	"regexp"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Discovery selects sessions from the server's session list instead of (and in addition to)
// configured IDs. A nil *Discovery in Config means discovery is off.
type Discovery struct {
	// MaxAge keeps sessions created within this long, plus any still Running.
	MaxAge time.Duration
	// RetrievalIDs narrows the list with the API's dataRetrievalId filter; empty lists all.
	RetrievalIDs []vb365.ID
	// NameRegexps keeps only sessions whose name matches one of them; empty keeps all.
	NameRegexps []*regexp.Regexp
	// MaxSessions caps the discovered sessions; the rest are dropped with a warning. 0 means
	// config.DefaultDiscoveryMaxSessions.
	MaxSessions int
}

// newDiscovery is the discovery a server's config asks for; nil when it asks for none.
func newDiscovery(d *config.DiscoveryConfig) *Discovery {
	if d == nil {
		return nil
	}
	return &Discovery{MaxAge: time.Duration(d.MaxAge), RetrievalIDs: d.RetrievalIDs, NameRegexps: d.Regexps(), MaxSessions: d.MaxSessions}
}
