package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Discovery defaults, applied when the discovery block is present but a key is not.
const (
	DefaultDiscoveryMaxAge      = model.Duration(24 * time.Hour)
	DefaultDiscoveryMaxSessions = 10000
)

// DiscoveryConfig turns on session discovery for a server: every scrape reads the server's
// session list and follows the sessions it selects, so new runs need no config change.
type DiscoveryConfig struct {
	// MaxAge keeps sessions created within this long, plus any still Running.
	MaxAge model.Duration `yaml:"max_age"`
	// RetrievalIDs asks the API for the sessions of these retrievals only (dataRetrievalId).
	RetrievalIDs []string `yaml:"retrieval_ids,omitempty"`
	// NameRegexps keeps only sessions whose name matches one of them (anchored, RE2).
	NameRegexps []string `yaml:"name_regexps,omitempty"`
	// MaxSessions caps the discovered sessions per scrape; the oldest beyond it are dropped.
	MaxSessions int `yaml:"max_sessions"`

	compiled []*regexp.Regexp
}

// Regexps returns the compiled name_regexps, in config order.
func (d *DiscoveryConfig) Regexps() []*regexp.Regexp {
	if d == nil {
		return nil
	}
	return d.compiled
}

var discoveryFields = yamlFields(reflect.TypeFor[DiscoveryConfig]())

// loadDiscovery decodes a server's discovery block. A present but empty block (`discovery:`
// or `discovery: {}`) turns discovery on with defaults: writing the key is the intent.
func (l *loader) loadDiscovery(n *yaml.Node, path string) (*DiscoveryConfig, error) {
	d := &DiscoveryConfig{}
	if isNull(n) {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	}
	if n.Kind != yaml.MappingNode {
		return nil, l.errorf(n, path, "must be a mapping (discovery settings)")
	}
	// The lists need positions of their own elements, so they are decoded separately.
	var idsNode, reNode *yaml.Node
	stripped := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := l.checkKey(k, path, seen); err != nil {
			return nil, err
		}
		switch k.Value {
		case "retrieval_ids":
			idsNode = resolve(v)
		case "name_regexps":
			reNode = resolve(v)
		default:
			stripped.Content = append(stripped.Content, k, v)
		}
	}
	keys, err := l.decodeStruct(stripped, path, d, discoveryFields, "discovery settings")
	if err != nil {
		return nil, err
	}
	if k, ok := keys["max_age"]; !ok || isNull(mappingValue(stripped, "max_age")) {
		d.MaxAge = DefaultDiscoveryMaxAge
	} else if d.MaxAge <= 0 {
		return nil, l.errorf(k, path+".max_age", "must be greater than 0")
	}
	if k, ok := keys["max_sessions"]; !ok || isNull(mappingValue(stripped, "max_sessions")) {
		d.MaxSessions = DefaultDiscoveryMaxSessions
	} else if d.MaxSessions < 1 {
		return nil, l.errorf(k, path+".max_sessions", "must be at least 1")
	}
	if idsNode != nil && !isNull(idsNode) {
		if d.RetrievalIDs, err = l.loadUUIDs(idsNode, path+".retrieval_ids", "retrieval ID"); err != nil {
			return nil, err
		}
	}
	if reNode != nil && !isNull(reNode) {
		if err := l.loadRegexps(d, reNode, path+".name_regexps"); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (l *loader) loadUUIDs(n *yaml.Node, path, what string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, l.errorf(n, path, "must be a list of %ss", what)
	}
	var out []string
	seen := map[string]*yaml.Node{}
	for i, item := range n.Content {
		item = resolve(item)
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			return nil, l.errorf(item, itemPath, "must be a %s (UUID)", what)
		}
		id := strings.ToLower(strings.TrimSpace(item.Value))
		if !uuidRE.MatchString(id) {
			return nil, l.errorf(item, itemPath, "%q is not a UUID", item.Value)
		}
		if first, dup := seen[id]; dup {
			return nil, l.errorf(item, itemPath, "duplicate %s %q (first at line %d)", what, id, first.Line)
		}
		seen[id] = item
		out = append(out, id)
	}
	return out, nil
}

func (l *loader) loadRegexps(d *DiscoveryConfig, n *yaml.Node, path string) error {
	if n.Kind != yaml.SequenceNode {
		return l.errorf(n, path, "must be a list of regular expressions")
	}
	for i, item := range n.Content {
		item = resolve(item)
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			return l.errorf(item, itemPath, "must be a regular expression (a string)")
		}
		// Anchored like every regex in Prometheus' own configuration, so that users' habits
		// carry over: "Exchange.*" means "starts with Exchange".
		// The bare expression is compiled first so that an error quotes the user's text, not
		// the anchoring wrapper.
		if _, err := regexp.Compile(item.Value); err != nil {
			msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
			return l.errorf(item, itemPath, "%q is not a valid regular expression: %s", item.Value, msg)
		}
		d.NameRegexps = append(d.NameRegexps, item.Value)
		d.compiled = append(d.compiled, regexp.MustCompile("^(?:"+item.Value+")$"))
	}
	return nil
}
