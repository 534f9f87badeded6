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
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Defaults applied by Load when a key is absent.
const (
	DefaultAPIVersion            = "v6"
	DefaultTimeout               = model.Duration(10 * time.Second)
	DefaultMaxConcurrentRequests = 8
	DefaultCacheTTL              = model.Duration(10 * time.Minute)
	DefaultMaxRetrievals         = 1000
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
	Name                  string               `yaml:"name"`
	URL                   string               `yaml:"url"`
	APIVersion            string               `yaml:"api_version"`
	Username              string               `yaml:"username"`
	Password              promconfig.Secret    `yaml:"password,omitempty"`
	PasswordFile          string               `yaml:"password_file,omitempty"`
	TLSConfig             promconfig.TLSConfig `yaml:"tls_config,omitempty"`
	Timeout               model.Duration       `yaml:"timeout"`
	MaxConcurrentRequests int                  `yaml:"max_concurrent_requests"`
	CacheTTL              *model.Duration      `yaml:"cache_ttl,omitempty"`
	Sessions              []string             `yaml:"sessions"`
	Discovery             *DiscoveryConfig     `yaml:"discovery,omitempty"`
	// MaxRetrievals caps the data retrievals exported per scrape; the rest are dropped.
	MaxRetrievals int `yaml:"max_retrievals"`

	// secret is kept unexported so that marshalling the config (e.g. for a status page)
	// can never expose the content of password_file.
	secret string
}

// Secret returns the password resolved by Load from password or password_file.
func (s *ServerConfig) Secret() string { return s.secret }

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

// loadError carries the position of a problem so that operators can jump straight to it.
type loadError struct {
	file string
	line int
	path string
	msg  string
}

func (e *loadError) Error() string {
	var b strings.Builder
	b.WriteString(e.file)
	if e.line > 0 {
		b.WriteString(":" + strconv.Itoa(e.line))
	}
	b.WriteString(": ")
	if e.path != "" {
		b.WriteString(e.path + ": ")
	}
	b.WriteString(e.msg)
	return b.String()
}

// Load reads, strictly decodes, applies defaults to and validates the file at path, and
// reads every password_file. Errors name the file, the line (when known) and the key path,
// and never contain a password.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config file: %w", err)
	}
	l := &loader{file: path, dir: filepath.Dir(path)}
	return l.load(data)
}

type loader struct {
	file    string
	dir     string
	secrets []string
}

func (l *loader) errorf(n *yaml.Node, path, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	// Values are echoed to make messages actionable; a password pasted into the wrong
	// field must still not leak, so every known secret is masked in them. Only the echoed
	// values are masked, not our own wording, which a very short password would mangle.
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = maskSecrets(v, l.secrets)
		case error:
			args[i] = maskSecrets(v.Error(), l.secrets)
		}
	}
	return &loadError{file: l.file, line: line, path: path, msg: fmt.Sprintf(format, args...)}
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (l *loader) load(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, l.errorf(nil, "", "no servers configured")
		}
		return nil, l.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, l.errorf(&extra, "", "only one YAML document is allowed")
	} else if !errors.Is(err, io.EOF) {
		return nil, l.syntaxError(err)
	}

	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, l.errorf(nil, "", "no servers configured")
		}
		root = resolve(root.Content[0])
	}
	if isNull(root) {
		return nil, l.errorf(nil, "", "no servers configured")
	}
	l.collectSecrets(root)
	if root.Kind != yaml.MappingNode {
		return nil, l.errorf(root, "", "the top level must be a mapping with a servers key")
	}

	cfg := &Config{}
	var serversNode, serversKey *yaml.Node
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if err := l.checkKey(k, "", seen); err != nil {
			return nil, err
		}
		if k.Value != "servers" {
			return nil, l.errorf(k, "", "unknown key %q", k.Value)
		}
		serversKey, serversNode = k, resolve(v)
	}
	if serversNode == nil || isNull(serversNode) {
		return nil, l.errorf(serversKey, "", "no servers configured")
	}
	if serversNode.Kind != yaml.SequenceNode {
		return nil, l.errorf(serversNode, "servers", "must be a list of servers")
	}
	if len(serversNode.Content) == 0 {
		return nil, l.errorf(serversNode, "servers", "no servers configured")
	}

	names := map[string]*yaml.Node{}
	for i, sn := range serversNode.Content {
		path := fmt.Sprintf("servers[%d]", i)
		sc, nameNode, err := l.loadServer(resolve(sn), path)
		if err != nil {
			return nil, err
		}
		if first, dup := names[sc.Name]; dup {
			return nil, l.errorf(nameNode, path+".name", "duplicate server name %q (first defined at line %d)", sc.Name, first.Line)
		}
		names[sc.Name] = nameNode
		cfg.Servers = append(cfg.Servers, *sc)
	}
	return cfg, nil
}

func (l *loader) syntaxError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &loadError{file: l.file, line: line, msg: "invalid YAML: " + m[2]}
	}
	return &loadError{file: l.file, msg: "invalid YAML: " + msg}
}

// collectSecrets gathers every password the file refers to, best effort and before any
// validation, so that an error raised anywhere later can be scrubbed of them.
func (l *loader) collectSecrets(root *yaml.Node) {
	add := func(s string) {
		if s != "" {
			l.secrets = append(l.secrets, s)
		}
	}
	servers := mappingValue(root, "servers")
	if servers == nil || servers.Kind != yaml.SequenceNode {
		return
	}
	for _, s := range servers.Content {
		s = resolve(s)
		if p := mappingValue(s, "password"); p != nil && p.Kind == yaml.ScalarNode {
			add(p.Value)
		}
		if pf := mappingValue(s, "password_file"); pf != nil && pf.Kind == yaml.ScalarNode && pf.Value != "" {
			if b, err := os.ReadFile(promconfig.JoinDir(l.dir, pf.Value)); err == nil {
				add(trimNewline(string(b)))
			}
		}
		if tls := mappingValue(s, "tls_config"); tls != nil {
			if k := mappingValue(tls, "key"); k != nil && k.Kind == yaml.ScalarNode {
				add(k.Value)
			}
		}
	}
	// Longest first, so that a password containing another one is masked whole.
	sort.Slice(l.secrets, func(i, j int) bool { return len(l.secrets[i]) > len(l.secrets[j]) })
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

func (l *loader) mask(s string) string { return maskSecrets(s, l.secrets) }

func maskSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "<secret>")
	}
	return s
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// checkKey rejects non-string and repeated keys; yaml.v3 only catches repeats while
// decoding into a struct, and we decode field by field.
func (l *loader) checkKey(k *yaml.Node, path string, seen map[string]*yaml.Node) error {
	if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
		return l.errorf(k, path, "keys must be strings")
	}
	if first, dup := seen[k.Value]; dup {
		return l.errorf(k, path, "key %q is repeated (first at line %d)", k.Value, first.Line)
	}
	seen[k.Value] = k
	return nil
}

// yamlFields maps yaml keys to struct field indexes, honouring the yaml tags.
func yamlFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !ok || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
	}
	return fields
}

var (
	serverFields = yamlFields(reflect.TypeFor[ServerConfig]())
	tlsFields    = yamlFields(reflect.TypeFor[promconfig.TLSConfig]())
)

// decodeStruct decodes a mapping key by key into the struct behind ptr, rejecting unknown
// and repeated keys, so that each error can point at its own line and key path.
// It returns the key nodes that were present.
func (l *loader) decodeStruct(n *yaml.Node, path string, ptr any, fields map[string]int, kind string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, l.errorf(n, path, "must be a mapping (%s)", kind)
	}
	rv := reflect.ValueOf(ptr).Elem()
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if err := l.checkKey(k, path, seen); err != nil {
			return nil, err
		}
		idx, ok := fields[k.Value]
		if !ok {
			return nil, l.errorf(k, path, "unknown key %q", k.Value)
		}
		keyPath := joinPath(path, k.Value)
		if isNull(v) {
			continue
		}
		if err := l.decodeValue(v, keyPath, rv.Field(idx)); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// negativeDurationRE catches negative durations before model.ParseDuration turns them into
// a less helpful "not a valid duration string".
var negativeDurationRE = regexp.MustCompile(`^\s*-`)

var durationType = reflect.TypeFor[model.Duration]()

func describeType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	default:
		return "a string"
	}
}

func (l *loader) decodeValue(v *yaml.Node, path string, field reflect.Value) error {
	ft := field.Type()
	if ft == durationType || (ft.Kind() == reflect.Pointer && ft.Elem() == durationType) {
		if v.Kind == yaml.ScalarNode && negativeDurationRE.MatchString(v.Value) {
			return l.errorf(v, path, "%q must not be negative", v.Value)
		}
	}
	if err := v.Decode(field.Addr().Interface()); err != nil {
		// yaml.v3 type errors quote a truncated value, which masking could not recognise,
		// so they are replaced by a description of the expected type.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return l.errorf(v, path, "must be %s", describeType(ft))
		}
		return l.errorf(v, path, "%s", err)
	}
	return nil
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (l *loader) loadServer(n *yaml.Node, path string) (*ServerConfig, *yaml.Node, error) {
	sc := &ServerConfig{}
	if n.Kind != yaml.MappingNode {
		return nil, nil, l.errorf(n, path, "must be a mapping (a server)")
	}
	// tls_config and sessions need positions of their own elements, so they are decoded
	// separately below.
	var tlsNode, sessionsNode, discoveryNode *yaml.Node
	stripped := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := l.checkKey(k, path, seen); err != nil {
			return nil, nil, err
		}
		switch k.Value {
		case "tls_config":
			tlsNode = resolve(v)
		case "sessions":
			sessionsNode = resolve(v)
		case "discovery":
			discoveryNode = resolve(v)
		default:
			stripped.Content = append(stripped.Content, k, v)
		}
	}
	keys, err := l.decodeStruct(stripped, path, sc, serverFields, "a server")
	if err != nil {
		return nil, nil, err
	}
	valueOf := func(key string) *yaml.Node {
		return mappingValue(n, key)
	}

	// Required keys.
	for _, key := range []string{"name", "url", "username"} {
		if _, ok := keys[key]; !ok {
			return nil, nil, l.errorf(n, path, "missing required key %q", key)
		}
	}
	nameNode := valueOf("name")
	if sc.Name == "" {
		return nil, nil, l.errorf(nameNode, path+".name", "must not be empty (it is the server label value)")
	}
	if !model.LabelValue(sc.Name).IsValid() || !utf8.ValidString(sc.Name) {
		return nil, nil, l.errorf(nameNode, path+".name", "is not a valid label value")
	}
	normURL, msg := validateURL(sc.URL, l.mask)
	if msg != "" {
		u := valueOf("url")
		return nil, nil, &loadError{file: l.file, line: u.Line, path: path + ".url", msg: msg}
	}
	sc.URL = normURL
	if sc.Username == "" {
		return nil, nil, l.errorf(valueOf("username"), path+".username", "must not be empty")
	}

	if sc.APIVersion == "" {
		sc.APIVersion = DefaultAPIVersion
	} else if !contains(APIVersions, sc.APIVersion) {
		return nil, nil, l.errorf(valueOf("api_version"), path+".api_version", "%q is not supported (allowed: %s)", sc.APIVersion, strings.Join(APIVersions, ", "))
	}

	if _, ok := keys["timeout"]; !ok {
		sc.Timeout = DefaultTimeout
	} else if sc.Timeout <= 0 {
		return nil, nil, l.errorf(valueOf("timeout"), path+".timeout", "must be greater than 0")
	}
	if _, ok := keys["max_concurrent_requests"]; !ok {
		sc.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	} else if sc.MaxConcurrentRequests < 1 {
		return nil, nil, l.errorf(valueOf("max_concurrent_requests"), path+".max_concurrent_requests", "must be at least 1")
	}
	if _, ok := keys["max_retrievals"]; !ok {
		sc.MaxRetrievals = DefaultMaxRetrievals
	} else if sc.MaxRetrievals < 1 {
		return nil, nil, l.errorf(valueOf("max_retrievals"), path+".max_retrievals", "must be at least 1")
	}
	if sc.CacheTTL == nil {
		ttl := DefaultCacheTTL
		sc.CacheTTL = &ttl
	}

	if err := l.resolvePassword(sc, n, path, keys); err != nil {
		return nil, nil, err
	}

	if tlsNode != nil && !isNull(tlsNode) {
		tlsPath := path + ".tls_config"
		if _, err := l.decodeStruct(tlsNode, tlsPath, &sc.TLSConfig, tlsFields, "tls_config"); err != nil {
			return nil, nil, err
		}
		sc.TLSConfig.SetDirectory(l.dir)
		if err := sc.TLSConfig.Validate(); err != nil {
			return nil, nil, l.errorf(tlsNode, tlsPath, "%s", err)
		}
	}

	if sessionsNode != nil && !isNull(sessionsNode) {
		if err := l.loadSessions(sc, sessionsNode, path+".sessions"); err != nil {
			return nil, nil, err
		}
	}
	if discoveryNode != nil {
		if sc.Discovery, err = l.loadDiscovery(discoveryNode, path+".discovery"); err != nil {
			return nil, nil, err
		}
	}
	return sc, nameNode, nil
}

func (l *loader) resolvePassword(sc *ServerConfig, n *yaml.Node, path string, keys map[string]*yaml.Node) error {
	hasPw, hasFile := sc.Password != "", sc.PasswordFile != ""
	switch {
	case hasPw && hasFile:
		at := keys["password_file"]
		if keys["password"].Line > at.Line {
			at = keys["password"]
		}
		return l.errorf(at, path, "password and password_file are mutually exclusive")
	case !hasPw && !hasFile:
		return l.errorf(n, path, "one of password or password_file is required")
	case hasPw:
		sc.secret = string(sc.Password)
		return nil
	}
	pfNode := mappingValue(n, "password_file")
	sc.PasswordFile = promconfig.JoinDir(l.dir, sc.PasswordFile)
	b, err := os.ReadFile(sc.PasswordFile)
	if err != nil {
		// fs.PathError already names the file; keep only the reason to avoid repeating it.
		reason := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			reason = pe.Err.Error()
		}
		return l.errorf(pfNode, path+".password_file", "cannot read password file %q: %s", sc.PasswordFile, reason)
	}
	sc.secret = trimNewline(string(b))
	if sc.secret == "" {
		return l.errorf(pfNode, path+".password_file", "password file %q is empty", sc.PasswordFile)
	}
	return nil
}

// trimNewline drops the single line ending editors and `echo` append, keeping any other
// whitespace because it may be part of the password.
func trimNewline(s string) string {
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2]
	}
	return strings.TrimSuffix(s, "\n")
}

func (l *loader) loadSessions(sc *ServerConfig, n *yaml.Node, path string) error {
	if n.Kind != yaml.SequenceNode {
		return l.errorf(n, path, "must be a list of session IDs")
	}
	seen := map[string]*yaml.Node{}
	for i, item := range n.Content {
		item = resolve(item)
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			return l.errorf(item, itemPath, "must be a session ID (UUID)")
		}
		id := strings.ToLower(strings.TrimSpace(item.Value))
		if !uuidRE.MatchString(id) {
			return l.errorf(item, itemPath, "%q is not a UUID", item.Value)
		}
		if first, dup := seen[id]; dup {
			return l.errorf(item, itemPath, "duplicate session ID %q (first at line %d)", id, first.Line)
		}
		seen[id] = item
		sc.Sessions = append(sc.Sessions, id)
	}
	return nil
}

// validateURL checks that raw is just the API's base and returns it as scheme://host[:port],
// or a problem description with echoed values passed through mask. The value is not echoed
// at all when it carries user information, since that is a credential.
func validateURL(raw string, mask func(string) string) (norm, problem string) {
	if raw == "" {
		return "", "must not be empty"
	}
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
