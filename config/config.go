// Package config loads and validates the vb365_exporter configuration file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Defaults applied by Load when a key is absent.
const (
	DefaultAPIVersion            = "v6"
	DefaultTimeout               = Duration(10 * time.Second)
	DefaultMaxConcurrentRequests = 8
	DefaultMaxRetrievals         = 1000
	DefaultCacheTTL              = Duration(10 * time.Minute)
)

// APIVersions lists the VB365 REST API versions the exporter speaks.
var APIVersions = []string{"v6", "v7", "v8"}

// Config is the whole configuration file.
type Config struct {
	Servers []ServerConfig `yaml:"servers"`
}

// ServerConfig describes one VB365 REST API server. After Load, URL is normalised to
// scheme://host[:port] (lower-case scheme, no trailing slash), session IDs are lower-case,
// relative file paths are absolute to the config file's directory, and defaults are filled in.
type ServerConfig struct {
	Name                  string            `yaml:"name"`
	URL                   string            `yaml:"url"`
	APIVersion            string            `yaml:"api_version"`
	Username              string            `yaml:"username"`
	Password              promconfig.Secret `yaml:"password,omitempty"`
	PasswordFile          string            `yaml:"password_file,omitempty"`
	TLSConfig             TLSConfig         `yaml:"tls_config,omitempty"`
	Timeout               Duration          `yaml:"timeout"`
	MaxConcurrentRequests int               `yaml:"max_concurrent_requests"`
	MaxRetrievals         int               `yaml:"max_retrievals"`
	CacheTTL              *Duration         `yaml:"cache_ttl,omitempty"`
	Sessions              []vb365.ID        `yaml:"sessions"`
	Discovery             *DiscoveryConfig  `yaml:"discovery,omitempty"`
	// Collect narrows the kinds read besides sessions (collect.go); nil reads them all.
	Collect []string `yaml:"collect,omitempty"`
	MaxJobs int      `yaml:"max_jobs"`

	// secret is kept unexported so that marshalling the config (e.g. for a status page)
	// can never expose the content of password_file.
	secret string
}

// Secret returns the password resolved by Load from password or password_file.
// A ServerConfig built in code rather than loaded has password only.
func (s *ServerConfig) Secret() string {
	if s.secret == "" {
		return string(s.Password)
	}
	return s.secret
}

// CacheTTLDuration returns how long a finished session stays cached; 0 disables the cache.
func (s *ServerConfig) CacheTTLDuration() time.Duration {
	if s.CacheTTL == nil {
		return time.Duration(DefaultCacheTTL)
	}
	return time.Duration(*s.CacheTTL)
}

// Server returns the server with the given name.
func (c *Config) Server(name string) (*ServerConfig, bool) {
	if c == nil {
		return nil, false
	}
	for i := range c.Servers {
		if c.Servers[i].Name == name {
			return &c.Servers[i], true
		}
	}
	return nil, false
}

// Duration is a model.Duration whose decoding errors name their line and do not stop the
// decoder (model.Duration's do), so that one run reports every mistake in the file.
type Duration model.Duration

func (d Duration) String() string { return model.Duration(d).String() }

// UnmarshalYAML accepts what model.Duration accepts, except negative values. Its messages
// do not quote the value, which Load could then not mask if it were a password: the line
// and key point at it.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	bad := func(msg string) error {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
	}
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return bad("must not be negative")
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		return bad("must be a duration such as 30s, 5m or 1h")
	}
	*d = Duration(v)
	return nil
}

// TLSConfig is promconfig.TLSConfig without its UnmarshalYAML, which validates and fails on
// an unknown TLS version by stopping the decoder; Load checks both with file:line and key.
// Convert it to use promconfig's functions: (*promconfig.TLSConfig)(&s.TLSConfig).
type TLSConfig promconfig.TLSConfig

const tlsVersionAbort = "tls_config: unknown TLS version"

func (t *TLSConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type tlsConfig TLSConfig // named so that type errors say "a mapping"; see describe
	err := unmarshal((*tlsConfig)(t))
	var te *yaml.TypeError
	if err == nil || errors.As(err, &te) {
		return err
	}
	// A TypeError is collected while any other error would end decoding; Load reports
	// an unknown TLS version itself, with its line, and drops this duplicate.
	return &yaml.TypeError{Errors: []string{"tls_config: " + err.Error()}}
}

// problem is one mistake in the file: `file:line: key: problem`, so that operators can
// jump straight to it.
type problem struct {
	line int
	text string
}

// entry is one key or list item of the file: where it is and what it holds.
type entry struct {
	path string
	line int
	key  *yaml.Node // nil for list items
	val  *yaml.Node
}

type loader struct {
	file, dir string
	entries   []entry
	byPath    map[string]int
	secrets   []string
	problems  []problem
	failed    map[string]bool
}

// Load reads, strictly decodes, applies defaults to and validates the file at path, and
// reads every password_file and TLS file. The error lists every problem found, one per
// line, each naming the file, the line and the key, and never contains a password.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config file: %w", err)
	}
	l := &loader{file: path, dir: filepath.Dir(path), byPath: map[string]int{}, failed: map[string]bool{}}
	cfg := l.load(data)
	if len(l.problems) == 0 {
		return cfg, nil
	}
	sort.SliceStable(l.problems, func(i, j int) bool { return l.problems[i].line < l.problems[j].line })
	lines := make([]string, len(l.problems))
	for i, p := range l.problems {
		lines[i] = p.text
	}
	return nil, errors.New(strings.Join(lines, "\n"))
}

func (l *loader) load(data []byte) *Config {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, extra yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		l.syntaxError(data, err)
		return nil
	}
	if err := dec.Decode(&extra); err == nil {
		l.add(extra.Line, "", "only one YAML document is allowed")
		return nil
	} else if !errors.Is(err, io.EOF) {
		l.syntaxError(data, err)
		return nil
	}
	l.walk(&doc, "")

	cfg := &Config{}
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	l.collectSecrets(cfg)
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, msg := range te.Errors {
			l.decodeError(msg)
		}
	} else if err != nil && !errors.Is(err, io.EOF) {
		l.errorf("", "%s", err)
	}

	if len(cfg.Servers) == 0 && len(l.problems) == 0 {
		l.errorf("servers", "no servers configured")
	}
	names := map[string]string{}
	for i, path := range l.items("servers", "a server (a mapping)", len(cfg.Servers)) {
		l.checkServer(&cfg.Servers[i], path)
		if first, dup := names[cfg.Servers[i].Name]; dup && cfg.Servers[i].Name != "" {
			l.errorf(path+".name", "duplicate server name %q (first defined at line %d)", cfg.Servers[i].Name, l.lineOf(first))
		}
		names[cfg.Servers[i].Name] = path + ".name"
	}
	return cfg
}

// walk records where every key and list item is, by path, so that a check made on the
// decoded structs can name its line. Aliases are not followed: a problem under one is
// reported at the alias.
func (l *loader) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			l.addEntry(path, nil, c)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			l.addEntry(strings.TrimPrefix(path+"."+n.Content[i].Value, "."), n.Content[i], n.Content[i+1])
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			l.addEntry(fmt.Sprintf("%s[%d]", path, i), nil, c)
		}
	}
}

func (l *loader) addEntry(path string, k, v *yaml.Node) {
	if _, ok := l.byPath[path]; !ok {
		l.byPath[path] = len(l.entries)
	}
	e := entry{path: path, line: v.Line, key: k, val: v}
	if k != nil {
		e.line = k.Line
	}
	l.entries = append(l.entries, e)
	l.walk(v, path)
}

// value returns the node written at path, nil when it is absent or null.
func (l *loader) value(path string) *yaml.Node {
	i, ok := l.byPath[path]
	if !ok {
		return nil
	}
	v := l.entries[i].val
	for v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return nil
	}
	return v
}

// lineOf returns the line of path or, when it is not written (a missing key, a value
// reached through an alias), of its closest written parent.
func (l *loader) lineOf(path string) int {
	for {
		if i, ok := l.byPath[path]; ok {
			return l.entries[i].line
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut < 0 {
			return 0
		}
		path = path[:cut]
	}
}

// add records a problem at an explicit line; errorf at the line of path. Only the first
// problem of a path is kept: a value that failed to decode is not also "missing".
func (l *loader) add(line int, path, msg string) {
	if l.failed[path] && path != "" {
		return
	}
	l.failed[path] = true
	text := l.file
	if line > 0 {
		text += ":" + strconv.Itoa(line)
	}
	if path != "" {
		text += ": " + path
	}
	// One line per problem, even when a key or a value yaml quotes holds a line break.
	text = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(text + ": " + msg)
	l.problems = append(l.problems, problem{line: line, text: text})
}

func (l *loader) errorf(path, format string, args ...any) {
	// Values are echoed to make messages actionable; a password pasted into the wrong
	// field must still not leak, so every known secret is masked in them. Only the echoed
	// values are masked, not our own wording, which a very short password would mangle.
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = l.mask(v)
		case error:
			args[i] = l.mask(v.Error())
		}
	}
	l.add(l.lineOf(path), path, fmt.Sprintf(format, args...))
}

var (
	yamlLineRE     = regexp.MustCompile(`(?s)^(?:yaml: )?line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`(?s)^field (.*) not found in type \S+$`)
	duplicateKeyRE = regexp.MustCompile(`(?s)^mapping key (".*") already defined at line (\d+)$`)
	cannotDecodeRE = regexp.MustCompile(`(?s)^cannot unmarshal (\S+) .*into (\S+)$`)
	tabIndentRE    = regexp.MustCompile(`^ *\t`)
)

// decodeError turns one of yaml's "line N: ..." messages into a problem naming its key.
// The key is that of the entry on the line the message is about: the key it names, or the
// value of the YAML type it could not decode; the deepest one when several match.
func (l *loader) decodeError(msg string) {
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		if !strings.HasPrefix(msg, tlsVersionAbort) {
			l.errorf("", "%s", msg)
		}
		return
	}
	line, _ := strconv.Atoi(m[1])
	msg = m[2]
	at := func(match func(e *entry) bool) (path string) {
		for i := range l.entries {
			if match(&l.entries[i]) {
				path = l.entries[i].path
			}
		}
		return path
	}
	key := func(name string) func(e *entry) bool {
		return func(e *entry) bool { return e.key != nil && e.key.Line == line && e.key.Value == name }
	}
	// Paths are masked too: an unknown key may be a password pasted one line too high.
	if k := unknownFieldRE.FindStringSubmatch(msg); k != nil {
		l.add(line, l.mask(at(key(k[1]))), "unknown key")
	} else if k := duplicateKeyRE.FindStringSubmatch(msg); k != nil {
		name, _ := strconv.Unquote(k[1])
		path := at(key(name))
		l.add(line, l.mask(path), "key is repeated (first at line "+k[2]+")")
		l.failed[strings.TrimSuffix(path, "."+name)] = true // yaml leaves the mapping out
	} else if k := cannotDecodeRE.FindStringSubmatch(msg); k != nil {
		path := at(func(e *entry) bool { return e.val.Line == line && e.val.ShortTag() == k[1] })
		l.add(line, l.mask(path), "must be "+describe(k[2], path))
	} else { // Duration's own messages, about a scalar
		path := at(func(e *entry) bool { return e.val.Line == line && e.val.Kind == yaml.ScalarNode })
		l.add(line, l.mask(path), l.mask(msg))
	}
}

// describe says what a Go type yaml could not decode into takes, without echoing the
// value: yaml quotes it cut short, which masking could not recognise as a password.
func describe(goType, path string) string {
	switch {
	case path == "":
		return "a mapping with a servers key"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "bool":
		return "true or false"
	case goType == "int":
		return "an integer"
	case strings.HasSuffix(goType, "Config"), strings.HasSuffix(goType, "tlsConfig"):
		return "a mapping"
	}
	return "a string" // string, and promconfig.Secret's "config.plain"
}

// syntaxError reports a YAML syntax error at the line that is wrong. yaml names the line
// where the enclosing block starts (a bad indent three lines further down gets "line 1"), so
// the shortest prefix of the file that fails the same way is searched for: it ends at the
// culprit. Bisection keeps that to a few parses, however long the file.
func (l *loader) syntaxError(data []byte, err error) {
	line, msg := splitLine(err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	fails := func(n int) bool {
		dec := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:n], nil)))
		for {
			var node yaml.Node
			if err := dec.Decode(&node); err != nil {
				_, m := splitLine(err)
				return !errors.Is(err, io.EOF) && m == msg
			}
		}
	}
	if lo, hi := max(line, 1)-1, len(lines); lo+1 < hi {
		for lo+1 < hi {
			if mid := (lo + hi) / 2; fails(mid) {
				hi = mid
			} else {
				lo = mid
			}
		}
		line = hi
	}
	if line > 0 && line <= len(lines) && tabIndentRE.Match(lines[line-1]) {
		msg = "a tab in the indentation (YAML indents with spaces only)"
	}
	l.add(line, "", "invalid YAML: "+msg)
}

func splitLine(err error) (int, string) {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(err.Error(), "yaml: ")
}

// collectSecrets gathers every password the file refers to, before any check, so that
// every error can be scrubbed of them.
func (l *loader) collectSecrets(cfg *Config) {
	for _, s := range cfg.Servers {
		l.secrets = append(l.secrets, string(s.Password), string(s.TLSConfig.Key))
		if s.PasswordFile != "" {
			if b, err := os.ReadFile(promconfig.JoinDir(l.dir, s.PasswordFile)); err == nil {
				l.secrets = append(l.secrets, trimNewline(string(b)))
			}
		}
	}
	l.secrets = slices.DeleteFunc(l.secrets, func(s string) bool { return s == "" })
	// Longest first, so that a password containing another one is masked whole.
	sort.Slice(l.secrets, func(i, j int) bool { return len(l.secrets[i]) > len(l.secrets[j]) })
}

func (l *loader) mask(s string) string {
	for _, sec := range l.secrets {
		s = strings.ReplaceAll(s, sec, "<secret>")
	}
	return s
}

// checkServer validates a decoded server and fills in its defaults.
func (l *loader) checkServer(sc *ServerConfig, path string) {
	required := func(key, v string) bool {
		if v != "" {
			return true
		}
		if l.value(path+"."+key) == nil {
			l.errorf(path+"."+key, "is required")
		} else {
			l.errorf(path+"."+key, "must not be empty")
		}
		return false
	}
	if required("name", sc.Name) && (!model.LabelValue(sc.Name).IsValid() || !utf8.ValidString(sc.Name)) {
		l.errorf(path+".name", "is not a valid label value")
	}
	if required("url", sc.URL) {
		if norm, msg := validateURL(sc.URL, l.mask); msg != "" {
			l.add(l.lineOf(path+".url"), path+".url", msg)
		} else {
			sc.URL = norm
		}
	}
	required("username", sc.Username)
	if sc.APIVersion == "" {
		sc.APIVersion = DefaultAPIVersion
	} else if !slices.Contains(APIVersions, sc.APIVersion) {
		l.errorf(path+".api_version", "%q is not supported (allowed: %s)", sc.APIVersion, strings.Join(APIVersions, ", "))
	}
	orDefault(l, &sc.Timeout, path+".timeout", DefaultTimeout)
	orDefault(l, &sc.MaxConcurrentRequests, path+".max_concurrent_requests", DefaultMaxConcurrentRequests)
	orDefault(l, &sc.MaxRetrievals, path+".max_retrievals", DefaultMaxRetrievals)
	if sc.CacheTTL == nil {
		ttl := DefaultCacheTTL
		sc.CacheTTL = &ttl
	}
	l.resolvePassword(sc, path)
	l.checkTLS(&sc.TLSConfig, path+".tls_config")
	sc.Sessions = l.uuids(sc.Sessions, path+".sessions", "session ID")
	if _, written := l.byPath[path+".discovery"]; written || sc.Discovery != nil {
		// A present but empty block (`discovery:`) turns discovery on with defaults:
		// writing the key is the intent.
		if sc.Discovery == nil {
			sc.Discovery = &DiscoveryConfig{}
		}
		l.checkDiscovery(sc.Discovery, path+".discovery")
	}
	l.checkCollect(sc, path)
}

// orDefault applies the default of a count or duration that is not set (absent or null),
// or checks it: a zero written in the file is a mistake.
func orDefault[T int | Duration](l *loader, v *T, path string, def T) {
	if *v == 0 && l.value(path) == nil {
		*v = def
	} else if *v <= 0 {
		l.errorf(path, "must be greater than 0")
	}
}

func (l *loader) resolvePassword(sc *ServerConfig, path string) {
	switch {
	case sc.Password != "" && sc.PasswordFile != "":
		later := path + ".password_file"
		if l.lineOf(path+".password") > l.lineOf(later) {
			later = path + ".password"
		}
		l.errorf(later, "password and password_file are mutually exclusive")
		return
	case sc.Password != "":
		sc.secret = string(sc.Password)
		return
	case sc.PasswordFile == "":
		if !l.failed[path+".password"] && !l.failed[path+".password_file"] {
			l.errorf(path+".password", "one of password or password_file is required")
		}
		return
	}
	pfPath := path + ".password_file"
	sc.PasswordFile = promconfig.JoinDir(l.dir, sc.PasswordFile)
	b, err := os.ReadFile(sc.PasswordFile)
	if err != nil {
		l.errorf(pfPath, "cannot read password file %q: %s", sc.PasswordFile, reason(err))
		return
	}
	if sc.secret = trimNewline(string(b)); sc.secret == "" {
		l.errorf(pfPath, "password file %q is empty", sc.PasswordFile)
	}
}

// reason drops the path from an fs.PathError, which the message already names.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// trimNewline drops the single line ending editors and `echo` append, keeping any other
// whitespace because it may be part of the password.
func trimNewline(s string) string {
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2]
	}
	return strings.TrimSuffix(s, "\n")
}

// checkTLS checks what promconfig would only find when the first scrape builds the client:
// the TLS versions, that each file is readable, and that together they make a TLS config.
func (l *loader) checkTLS(t *TLSConfig, path string) {
	ok := true
	for _, key := range []string{"min_version", "max_version"} {
		if v := l.value(path + "." + key); v != nil && v.Kind == yaml.ScalarNode {
			if _, known := promconfig.TLSVersions[v.Value]; !known {
				l.errorf(path+"."+key, "unknown TLS version: %s", v.Value)
				ok = false
			}
		}
	}
	pt := (*promconfig.TLSConfig)(t)
	pt.SetDirectory(l.dir)
	if err := pt.Validate(); err != nil { // promconfig's wording, nothing to mask
		l.add(l.lineOf(path), path, err.Error())
		return
	}
	for _, f := range []struct{ key, file string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
		if f.file == "" {
			continue
		}
		if _, err := os.ReadFile(f.file); err != nil {
			l.errorf(path+"."+f.key, "cannot read %q: %s", f.file, reason(err))
			ok = false
		}
	}
	if ok {
		if _, err := promconfig.NewTLSConfig(pt); err != nil {
			l.errorf(path, "%s", err)
		}
	}
}

// items reports the null items of the list at path, which yaml drops while decoding as it
// drops those it could not decode, and returns the paths of the n others, in order.
func (l *loader) items(path, what string, n int) []string {
	var paths []string
	for i := 0; ; i++ {
		p := fmt.Sprintf("%s[%d]", path, i)
		j, ok := l.byPath[p]
		if !ok {
			break
		}
		if l.entries[j].val.ShortTag() == "!!null" {
			l.add(l.lineOf(p), p, "must be "+what)
		} else if !l.failed[p] { // yaml dropped it too, and said why

			paths = append(paths, p)
		}
	}
	for len(paths) < n { // items reached through an alias
		paths = append(paths, fmt.Sprintf("%s[%d]", path, len(paths)))
	}
	return paths[:n]
}

// uuids checks and normalises a list of IDs: each a UUID, once.
func (l *loader) uuids(ids []vb365.ID, path, what string) []vb365.ID {
	seen := map[vb365.ID]string{}
	paths := l.items(path, "a "+what+" (UUID)", len(ids))
	for i, raw := range ids {
		itemPath := paths[i]
		id, err := vb365.ParseID(string(raw))
		ids[i] = id
		if err != nil {
			l.errorf(itemPath, "%q is not a UUID", string(raw))
		} else if first, dup := seen[id]; dup {
			l.errorf(itemPath, "duplicate %s %q (first at line %d)", what, id, l.lineOf(first))
		} else {
			seen[id] = itemPath
		}
	}
	return ids
}

// validateURL checks that raw is just the API's base and returns it as scheme://host[:port],
// or a problem description with echoed values passed through mask. The value is not echoed
// at all when it carries user information, since that is a credential.
func validateURL(raw string, mask func(string) string) (norm, problem string) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", "is not a valid URL: " + mask(err.Error())
	}
	if u.User != nil {
		return "", "must not contain user information; use username and password_file"
	}
	q := strconv.Quote(mask(raw))
	switch {
	case u.Scheme == "" || u.Opaque != "":
		return "", q + " must start with http:// or https://"
	case u.Scheme != "http" && u.Scheme != "https":
		return "", q + " has scheme " + strconv.Quote(mask(u.Scheme)) + "; only http and https are allowed"
	case u.Hostname() == "":
		return "", q + " has no host"
	case u.Path != "" && u.Path != "/":
		return "", q + " must not have a path (the API version is set by api_version)"
	case u.RawQuery != "" || u.ForceQuery:
		return "", q + " must not have a query"
	case u.Fragment != "":
		return "", q + " must not have a fragment"
	}
	return u.Scheme + "://" + u.Host, ""
}
