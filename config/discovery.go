package config

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"time"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Discovery defaults, applied when the discovery block is present but a key is not.
const (
	DefaultDiscoveryMaxAge      = Duration(24 * time.Hour)
	DefaultDiscoveryMaxSessions = 10000
)

// DiscoveryConfig turns on session discovery for a server: every scrape reads the server's
// session list and follows the sessions it selects, so new runs need no config change.
type DiscoveryConfig struct {
	// MaxAge keeps sessions created within this long, plus any still Running.
	MaxAge Duration `yaml:"max_age"`
	// RetrievalIDs asks the API for the sessions of these retrievals only (dataRetrievalId).
	RetrievalIDs []vb365.ID `yaml:"retrieval_ids,omitempty"`
	// NameRegexps keeps only sessions whose name matches one of them (anchored, RE2).
	NameRegexps []string `yaml:"name_regexps,omitempty"`
	// MaxSessions caps the discovered sessions per scrape; the oldest beyond it are dropped.
	MaxSessions int `yaml:"max_sessions"`

	compiled []*regexp.Regexp
}

// Regexps returns the compiled name_regexps, in config order. A DiscoveryConfig built in
// code rather than loaded has them compiled here, leaving out any that does not compile.
func (d *DiscoveryConfig) Regexps() []*regexp.Regexp {
	if d == nil {
		return nil
	}
	if d.compiled != nil || len(d.NameRegexps) == 0 {
		return d.compiled
	}
	var out []*regexp.Regexp
	for _, re := range d.NameRegexps {
		if c, err := regexp.Compile("^(?:" + re + ")$"); err == nil {
			out = append(out, c)
		}
	}
	return out
}

func (l *loader) checkDiscovery(d *DiscoveryConfig, path string) {
	orDefault(l, &d.MaxAge, path+".max_age", DefaultDiscoveryMaxAge)
	orDefault(l, &d.MaxSessions, path+".max_sessions", DefaultDiscoveryMaxSessions)
	d.RetrievalIDs = l.uuids(d.RetrievalIDs, path+".retrieval_ids", "retrieval ID")
	for i, re := range d.NameRegexps {
		itemPath := l.lists[path+".name_regexps"][i]
		// Anchored like every regex in Prometheus' own configuration, so that users' habits
		// carry over: "Exchange.*" means "starts with Exchange". The bare expression is
		// compiled first so that the error is about the user's text, not the wrapper; only
		// its kind is told, since the expression is a value.
		if _, err := regexp.Compile(re); err != nil {
			msg := "must be a regular expression (RE2)"
			if se := (*syntax.Error)(nil); errors.As(err, &se) {
				msg += ": " + string(se.Code)
			}
			l.add(l.lineOf(itemPath), itemPath, msg)
			continue
		}
		d.compiled = append(d.compiled, regexp.MustCompile("^(?:"+re+")$"))
	}
}
