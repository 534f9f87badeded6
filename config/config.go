// Package config loads and validates the vb365_exporter configuration file.
package config

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
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
	DefaultTimeout               = Duration(vb365.DefaultRequestTimeout)
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
	// OrganizationsRefresh is how often the organizations' licensed users (a list that can
	// hold 100,000 entries) and usage are read, in the background; RestoreWindow is how far
	// back vb365_restore_sessions_recent looks (collect.go).
	OrganizationsRefresh Duration `yaml:"organizations_refresh"`
	RestoreWindow        Duration `yaml:"restore_window"`

	// secret is kept unexported so that marshalling the config (e.g. for a status page)
	// can never expose the content of password_file.
	secret string
}

// Secret returns the password resolved by Load from password or password_file.
// A ServerConfig built in code rather than loaded has password only.
func (s *ServerConfig) Secret() string { return cmp.Or(s.secret, string(s.Password)) }

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

// Duration is a model.Duration that rejects negative values and whose messages do not
// quote the value: the line and key point at it.
type Duration model.Duration

func (d Duration) String() string { return model.Duration(d).String() }

// UnmarshalYAML accepts what model.Duration accepts, except negative values.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return valueError("must be a duration such as 30s, 5m or 1h")
	}
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return valueError("must not be negative")
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		return valueError("must be a duration such as 30s, 5m or 1h")
	}
	*d = Duration(v)
	return nil
}

// TLSConfig is promconfig.TLSConfig, decoded by Load key by key so that each problem has its
// line. Convert it to use promconfig's functions: (*promconfig.TLSConfig)(&s.TLSConfig).
type TLSConfig promconfig.TLSConfig

// Bounds on the files Load reads, checked before reading: a FIFO would block the read, and
// /dev/zero or a huge file would take the memory.
const (
	maxConfigSize       = 16 << 20 // far above 10,000 session IDs per server
	maxPasswordFileSize = 64 << 10
	maxTLSFileSize      = 1 << 20
)

// problem is one mistake in the file: `file:line: key: problem`, so that operators can
// jump straight to it. No value of the file is ever part of it (the file may not be a
// config at all, or hold a password in the wrong place), only the keys the structs know
// and, for an unknown key, at most maxKeyShown characters of it.
type problem struct {
	line      int
	path, msg string
	key       string // an unknown key, shown by render
	unknown   bool
}

type loader struct {
	file, dir string
	at        map[string]pos      // every key and list item written, by path
	lists     map[string][]string // the paths of the items decoded from each list
	secrets   []string
	problems  []problem
	failed    map[string]bool
	budget    int                 // nodes decode may still visit: aliases must not expand without end
	open      map[*yaml.Node]bool // the mappings being decoded, for a merge key naming its own
}

// Load reads, decodes, applies defaults to and validates the file at path, and reads every
// password_file and TLS file. The error lists every problem found, one per line, each naming
// the file, the line, the key and what is expected there.
func Load(path string) (*Config, error) {
	data, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	l := &loader{file: path, dir: filepath.Dir(path), at: map[string]pos{}, lists: map[string][]string{}, failed: map[string]bool{},
		open: map[*yaml.Node]bool{}}
	cfg := l.load(data)
	if len(l.problems) == 0 {
		return cfg, nil
	}
	sort.SliceStable(l.problems, func(i, j int) bool { return l.problems[i].line < l.problems[j].line })
	lines := make([]string, len(l.problems))
	for i, p := range l.problems {
		lines[i] = l.render(p)
	}
	return nil, errors.New(strings.Join(lines, "\n"))
}

// readConfig reads at most maxConfigSize bytes. It does not insist on a regular file, so
// that a config can come from a pipe; a read that blocks does not hold up SIGTERM.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read config file: %w", err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("cannot read config file %s: larger than %d MiB", path, maxConfigSize>>20)
	}
	return data, nil
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
	cfg := &Config{}
	if len(doc.Content) > 0 {
		l.budget = 100_000 + 10*countNodes(&doc)
		l.decode(doc.Content[0], reflect.ValueOf(cfg).Elem(), "", 0)
	}
	if len(cfg.Servers) == 0 && len(l.problems) == 0 {
		l.add(l.lineOf("servers"), "servers", "no servers configured")
	}
	names := map[string]string{}
	for i, path := range l.lists["servers"] {
		l.checkServer(&cfg.Servers[i], path)
		if first, dup := names[cfg.Servers[i].Name]; dup && cfg.Servers[i].Name != "" {
			l.add(l.lineOf(path+".name"), path+".name", fmt.Sprintf("duplicate server name (first defined at line %d)", l.lineOf(first)))
		}
		names[cfg.Servers[i].Name] = path + ".name"
	}
	return cfg
}

// written reports whether path has a value in the file (not absent, not null).
func (l *loader) written(path string) bool {
	p, ok := l.at[path]
	return ok && !p.null
}

// lineOf returns the line of path or, when it is not written, of its closest written parent.
func (l *loader) lineOf(path string) int {
	for {
		if p, ok := l.at[path]; ok {
			return p.line
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut < 0 {
			return 0
		}
		path = path[:cut]
	}
}

// add records a problem. Only the first problem of a path is kept: a value that failed to
// decode is not also "missing".
func (l *loader) add(line int, path, msg string) {
	if l.failed[path] && path != "" {
		return
	}
	l.failed[path] = true
	l.problems = append(l.problems, problem{line: line, path: path, msg: msg})
}

// render writes a problem as one line. An unknown key is masked before it is cut, so that
// no piece of a password survives as a key.
func (l *loader) render(p problem) string {
	text := l.file
	if p.line > 0 {
		text += ":" + strconv.Itoa(p.line)
	}
	if p.path != "" {
		text += ": " + p.path
	}
	msg := p.msg
	if p.unknown {
		key := p.key
		for _, sec := range l.secrets {
			key = strings.ReplaceAll(key, sec, "<secret>")
		}
		if shown := showKey(key); shown != "" {
			msg = "unknown key " + shown + msg
		} else {
			msg = "unknown key (not shown: not a plain name)" + msg
		}
	}
	return text + ": " + msg
}

// syntaxError reports a YAML syntax error. There is no node tree to take the line from, and
// yaml names the line where the enclosing block starts (a bad indent three lines further
// down gets "line 1"), so the shortest prefix of the file that fails the same way is
// searched for: it ends at the culprit. Bisection keeps that to a few parses.
func (l *loader) syntaxError(data []byte, err error) {
	msg := syntaxMessage(err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	fails := func(n int) bool {
		dec := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:n], nil)))
		for {
			var node yaml.Node
			if err := dec.Decode(&node); err != nil {
				return !errors.Is(err, io.EOF) && syntaxMessage(err) == msg
			}
		}
	}
	lo, hi := 0, len(lines)
	for lo+1 < hi {
		if mid := (lo + hi) / 2; fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	if t := bytes.TrimLeft(lines[hi-1], " "); len(t) > 0 && t[0] == '\t' {
		msg = "a tab in the indentation (YAML indents with spaces only)"
	}
	l.add(hi, "", "invalid YAML: "+msg)
}

// syntaxMessage is yaml's description of a syntax error without its "yaml: line N:" prefix.
// Its texts are fixed, except those about an anchor, which quote the anchor's name.
func syntaxMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if _, m, ok := strings.Cut(rest, ": "); ok {
			msg = m
		}
	}
	if strings.Contains(msg, "anchor") {
		return "an alias (*name) refers to an anchor (&name) not defined before it"
	}
	return msg
}

// checkServer validates a decoded server and fills in its defaults.
func (l *loader) checkServer(sc *ServerConfig, path string) {
	required := func(key, v string) bool {
		if v != "" {
			return true
		}
		if !l.written(path + "." + key) {
			l.add(l.lineOf(path+"."+key), path+"."+key, "is required")
		} else {
			l.add(l.lineOf(path+"."+key), path+"."+key, "must not be empty")
		}
		return false
	}
	if required("name", sc.Name) && (!model.LabelValue(sc.Name).IsValid() || !utf8.ValidString(sc.Name)) {
		l.add(l.lineOf(path+".name"), path+".name", "is not a valid label value")
	}
	if required("url", sc.URL) {
		if norm, msg := validateURL(sc.URL); msg != "" {
			l.add(l.lineOf(path+".url"), path+".url", msg)
		} else {
			sc.URL = norm
		}
	}
	required("username", sc.Username)
	if sc.APIVersion == "" {
		sc.APIVersion = DefaultAPIVersion
	} else if !slices.Contains(APIVersions, sc.APIVersion) {
		l.add(l.lineOf(path+".api_version"), path+".api_version", "must be one of "+strings.Join(APIVersions, ", "))
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
	if _, written := l.at[path+".discovery"]; written || sc.Discovery != nil {
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
	if *v == 0 && !l.written(path) {
		*v = def
	} else if *v <= 0 && !l.failed[path] {
		l.add(l.lineOf(path), path, "must be greater than 0")
	}
}

// resolvePassword reads password_file once, bounded, and keeps every password for masking.
func (l *loader) resolvePassword(sc *ServerConfig, path string) {
	pfPath := path + ".password_file"
	var fromFile, msg string
	if sc.PasswordFile != "" {
		sc.PasswordFile = promconfig.JoinDir(l.dir, sc.PasswordFile)
		var b []byte
		b, msg = readFile(sc.PasswordFile, maxPasswordFileSize)
		fromFile = trimNewline(string(b))
	}
	switch {
	case sc.Password != "" && sc.PasswordFile != "":
		later := pfPath
		if l.lineOf(path+".password") > l.lineOf(later) {
			later = path + ".password"
		}
		l.add(l.lineOf(later), later, "password and password_file are mutually exclusive")
	case sc.Password != "":
		sc.secret = string(sc.Password)
	case sc.PasswordFile == "":
		if !l.failed[path+".password"] && !l.failed[pfPath] {
			l.add(l.lineOf(path+".password"), path+".password", "one of password or password_file is required")
		}
	case msg != "":
		l.add(l.lineOf(pfPath), pfPath, msg)
	case fromFile == "":
		l.add(l.lineOf(pfPath), pfPath, "the file is empty")
	default:
		sc.secret = fromFile
	}
	// Longest first, so that a password containing another one is masked whole.
	l.secrets = append(l.secrets, fromFile, string(sc.Password), string(sc.TLSConfig.Key))
	l.secrets = slices.DeleteFunc(l.secrets, func(s string) bool { return s == "" })
	sort.Slice(l.secrets, func(i, j int) bool { return len(l.secrets[i]) > len(l.secrets[j]) })
}

// ReadTLSFile reads a TLS file named by tls_config (ca_file, cert_file, key_file) with the
// checks Load made, for whoever reads it again later (a server built after a reload): the
// file may have been swapped for a FIFO or a huge one since.
func ReadTLSFile(path string) ([]byte, error) {
	b, msg := readFile(path, maxTLSFileSize)
	if msg != "" {
		return nil, errors.New(msg)
	}
	return b, nil
}

// readFile reads a regular file (after symlinks) of at most max bytes, checked before the
// read: a FIFO would block it, and /dev/zero or a huge file would take the memory. The
// problem, if any, names neither the path nor the content: the key's line points at it.
func readFile(path string, limit int64) ([]byte, string) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "cannot read the file: " + reason(err)
	}
	if !fi.Mode().IsRegular() {
		kind := "a special file"
		switch m := fi.Mode(); {
		case m.IsDir():
			kind = "a directory"
		case m&fs.ModeNamedPipe != 0:
			kind = "a named pipe (FIFO)"
		case m&fs.ModeDevice != 0:
			kind = "a device"
		case m&fs.ModeSocket != 0:
			kind = "a socket"
		}
		return nil, "must be a regular file, not " + kind
	}
	tooBig := fmt.Sprintf("must be a file of at most %d KiB", limit>>10)
	if fi.Size() > limit {
		return nil, tooBig
	}
	// Swapped for a FIFO since the Stat, the file could still block Open: SIGTERM still
	// ends the process (see serve), and nothing more is read than limit.
	f, err := os.Open(path)
	if err != nil {
		return nil, "cannot read the file: " + reason(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, "cannot read the file: " + reason(err)
	}
	if int64(len(b)) > limit {
		return nil, tooBig
	}
	return b, ""
}

// reason drops the path from an fs.PathError: a problem names no value.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return "an I/O error"
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
// that each file is a readable regular file of PEM and that together they make a TLS config.
func (l *loader) checkTLS(t *TLSConfig, path string) {
	pt := (*promconfig.TLSConfig)(t)
	pt.SetDirectory(l.dir)
	if err := pt.Validate(); err != nil { // promconfig's fixed wording, which names keys only
		l.add(l.lineOf(path), path, err.Error())
		return
	}
	ok := true
	for _, ref := range []struct{ key, v string }{{"ca_ref", t.CARef}, {"cert_ref", t.CertRef}, {"key_ref", t.KeyRef}} {
		if ref.v != "" {
			l.add(l.lineOf(path+"."+ref.key), path+"."+ref.key, "is not supported (there is no secret manager); use the _file key")
			ok = false
		}
	}
	pem := map[string][]byte{"ca": []byte(t.CA), "cert": []byte(t.Cert), "key": []byte(t.Key)}
	for _, f := range []struct{ key, file string }{{"ca", t.CAFile}, {"cert", t.CertFile}, {"key", t.KeyFile}} {
		if f.file == "" {
			continue
		}
		b, msg := readFile(f.file, maxTLSFileSize)
		if msg != "" {
			l.add(l.lineOf(path+"."+f.key+"_file"), path+"."+f.key+"_file", msg)
			ok = false
		}
		pem[f.key] = b
	}
	if !ok {
		return
	}
	if len(pem["ca"]) > 0 && !x509.NewCertPool().AppendCertsFromPEM(pem["ca"]) {
		key := path + ".ca"
		if t.CAFile != "" {
			key += "_file"
		}
		l.add(l.lineOf(key), key, "must hold a CA certificate in PEM")
		return
	}
	if len(pem["cert"]) > 0 {
		if _, err := tls.X509KeyPair(pem["cert"], pem["key"]); err != nil {
			l.add(l.lineOf(path), path, "the client certificate and key must be a matching pair in PEM")
			return
		}
	}
	if t.MaxVersion != 0 && t.MaxVersion < t.MinVersion {
		l.add(l.lineOf(path+".max_version"), path+".max_version", "must not be below min_version")
	} else if _, err := promconfig.NewTLSConfig(pt); err != nil {
		l.add(l.lineOf(path), path, "cannot be used as a TLS configuration")
	}
}

// uuids checks and normalises a list of IDs: each a UUID, once.
func (l *loader) uuids(ids []vb365.ID, path, what string) []vb365.ID {
	seen := map[vb365.ID]string{}
	for i, raw := range ids {
		itemPath := l.lists[path][i]
		id, err := vb365.ParseID(string(raw))
		ids[i] = id
		if err != nil {
			l.add(l.lineOf(itemPath), itemPath, "must be a UUID (such as 668f478c-0326-440a-8bdf-58cf39163ea2)")
		} else if first, dup := seen[id]; dup {
			l.add(l.lineOf(itemPath), itemPath, fmt.Sprintf("duplicate %s (first at line %d)", what, l.lineOf(first)))
		} else {
			seen[id] = itemPath
		}
	}
	return ids
}

// validateURL checks that raw is just the API's base and returns it as scheme://host[:port],
// or what is wrong with it, without the value.
func validateURL(raw string) (norm, problem string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", "is not a valid URL; expected scheme://host[:port]"
	case u.User != nil:
		return "", "must not contain user information; use username and password_file"
	case u.Scheme == "" || u.Opaque != "":
		return "", "must start with http:// or https://"
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "has a scheme other than http and https"
	case u.Hostname() == "":
		return "", "has no host"
	case u.Path != "" && u.Path != "/":
		return "", "must not have a path (the API version is set by api_version)"
	case u.RawQuery != "" || u.ForceQuery:
		return "", "must not have a query"
	case u.Fragment != "":
		return "", "must not have a fragment"
	}
	return u.Scheme + "://" + u.Host, ""
}
