package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/vb365-exporter/vb365_exporter/config"
)

// connection is everything a server's API client and transport are built from, its TLS
// files read. Its key is the reload key: a reload rebuilds a server (a new login, new
// connections, an empty cache) exactly when something it is built from changed, a CA file
// rewritten in place included, and keeps it otherwise.
type connection struct {
	URL, APIVersion, Username string
	password                  string
	Timeout                   time.Duration
	MaxConcurrentRequests     int
	// TLS holds the files' contents (CA, Cert, Key), not their paths, so that what is hashed
	// is what the transport trusts.
	TLS promconfig.TLSConfig
}

func newConnection(sc *config.ServerConfig) (connection, error) {
	c := connection{URL: sc.URL, APIVersion: sc.APIVersion, Username: sc.Username, password: sc.Secret(),
		Timeout: time.Duration(sc.Timeout), MaxConcurrentRequests: max(sc.MaxConcurrentRequests, 1),
		TLS: promconfig.TLSConfig(sc.TLSConfig)}
	for _, f := range []struct {
		key  string
		path *string
		set  func(string)
	}{
		{"ca_file", &c.TLS.CAFile, func(s string) { c.TLS.CA = s }},
		{"cert_file", &c.TLS.CertFile, func(s string) { c.TLS.Cert = s }},
		{"key_file", &c.TLS.KeyFile, func(s string) { c.TLS.Key = promconfig.Secret(s) }},
	} {
		if *f.path == "" {
			continue
		}
		b, err := config.ReadTLSFile(*f.path)
		if err != nil {
			return c, fmt.Errorf("tls_config.%s: %w", f.key, err)
		}
		f.set(string(b))
		*f.path = ""
	}
	return c, nil
}

// key hashes the connection. The secrets, which JSON masks or leaves out, are hashed on
// their own; each part separately, so that no two sets of parts run together alike.
func (c connection) key() string {
	b, _ := json.Marshal(c)
	h := sha256.New()
	for _, part := range []string{string(b), c.password, string(c.TLS.Key)} {
		sum := sha256.Sum256([]byte(part))
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
