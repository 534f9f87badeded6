package config

import (
	"regexp"
	"strings"
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
	paths := l.items(path+".name_regexps", "a regular expression (a string)", len(d.NameRegexps))
	for i, re := range d.NameRegexps {
		itemPath := paths[i]
		// Anchored like every regex in Prometheus' own configuration, so that users' habits
		// carry over: "Exchange.*" means "starts with Exchange". The bare expression is
		// compiled first so that an error quotes the user's text, not the anchoring wrapper.
		if _, err := regexp.Compile(re); err != nil {
			msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
			l.errorf(itemPath, "%q is not a valid regular expression: %s", re, msg)
			continue
		}
		d.compiled = append(d.compiled, regexp.MustCompile("^(?:"+re+")$"))
	}
}
