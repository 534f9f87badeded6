package config

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadDiscoveryErrors(t *testing.T) {
	cases := []struct {
		name, yaml, wantErr string
	}{
		{
			name:    "not a mapping",
			yaml:    validServer + "    discovery: yes\n",
			wantErr: `config.yml:6: servers[0].discovery: must be a mapping`,
		},
		{
			name:    "unknown key",
			yaml:    validServer + "    discovery:\n      max_age: 1h\n      maxsessions: 3\n",
			wantErr: `config.yml:8: servers[0].discovery: unknown key "maxsessions"; expected one of: max_age, retrieval_ids, name_regexps, max_sessions`,
		},
		{
			name:    "repeated key",
			yaml:    validServer + "    discovery:\n      max_age: 1h\n      max_age: 2h\n",
			wantErr: `config.yml:8: servers[0].discovery.max_age: key is repeated (first at line 7)`,
		},
		{
			name:    "zero max_age",
			yaml:    validServer + "    discovery:\n      max_age: 0s\n",
			wantErr: `config.yml:7: servers[0].discovery.max_age: must be greater than 0`,
		},
		{
			name:    "negative max_age",
			yaml:    validServer + "    discovery:\n      max_age: -1h\n",
			wantErr: `config.yml:7: servers[0].discovery.max_age: must not be negative`,
		},
		{
			name:    "max_age not a duration",
			yaml:    validServer + "    discovery:\n      max_age: one day\n",
			wantErr: `config.yml:7: servers[0].discovery.max_age: must be a duration such as 30s, 5m or 1h`,
		},
		{
			name:    "max_sessions zero",
			yaml:    validServer + "    discovery:\n      max_sessions: 0\n",
			wantErr: `config.yml:7: servers[0].discovery.max_sessions: must be greater than 0`,
		},
		{
			name:    "max_sessions not an integer",
			yaml:    validServer + "    discovery:\n      max_sessions: many\n",
			wantErr: `config.yml:7: servers[0].discovery.max_sessions: must be an integer`,
		},
		{
			name:    "retrieval_ids not a list",
			yaml:    validServer + "    discovery:\n      retrieval_ids: 8a76872b-7f2c-4c50-95f4-92c4d41bc47c\n",
			wantErr: `config.yml:7: servers[0].discovery.retrieval_ids: must be a list`,
		},
		{
			name:    "retrieval id not a UUID",
			yaml:    validServer + "    discovery:\n      retrieval_ids:\n        - 8a76872b-7f2c-4c50-95f4-92c4d41bc47c\n        - exchange\n",
			wantErr: `config.yml:9: servers[0].discovery.retrieval_ids[1]: must be a UUID (such as 668f478c-0326-440a-8bdf-58cf39163ea2)`,
		},
		{
			name:    "retrieval id not a scalar",
			yaml:    validServer + "    discovery:\n      retrieval_ids:\n        - {id: x}\n",
			wantErr: `config.yml:8: servers[0].discovery.retrieval_ids[0]: must be a string`,
		},
		{
			name: "duplicate retrieval id, differing in case",
			yaml: validServer + "    discovery:\n      retrieval_ids:\n        - 8a76872b-7f2c-4c50-95f4-92c4d41bc47c\n" +
				"        - 8A76872B-7F2C-4C50-95F4-92C4D41BC47C\n",
			wantErr: `config.yml:9: servers[0].discovery.retrieval_ids[1]: duplicate retrieval ID (first at line 8)`,
		},
		{
			name:    "name_regexps not a list",
			yaml:    validServer + "    discovery:\n      name_regexps: Exchange.*\n",
			wantErr: `config.yml:7: servers[0].discovery.name_regexps: must be a list`,
		},
		{
			name:    "invalid regexp says what is wrong, not the text",
			yaml:    validServer + "    discovery:\n      name_regexps:\n        - 'Exchange.*'\n        - '(Teams'\n",
			wantErr: "config.yml:9: servers[0].discovery.name_regexps[1]: must be a regular expression (RE2): missing closing )",
		},
		{
			name:    "null regexp",
			yaml:    validServer + "    discovery:\n      name_regexps:\n        - ~\n",
			wantErr: `config.yml:8: servers[0].discovery.name_regexps[0]: must be a regular expression (a string)`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeConfig(t, c.yaml)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if got := relErr(err, filepath.Dir(path)); got != c.wantErr {
				t.Errorf("error\n got: %s\nwant: %s", got, c.wantErr)
			}
		})
	}
}

func TestLoadDiscoveryDefaults(t *testing.T) {
	for name, block := range map[string]string{
		"absent":            "",
		"empty mapping":     "    discovery: {}\n",
		"null":              "    discovery:\n",
		"null values":       "    discovery:\n      max_age:\n      max_sessions:\n",
		"empty lists":       "    discovery:\n      retrieval_ids: []\n      name_regexps: []\n",
		"explicit defaults": "    discovery:\n      max_age: 24h\n      max_sessions: 10000\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(writeConfig(t, validServer+block))
			if err != nil {
				t.Fatal(err)
			}
			d := cfg.Servers[0].Discovery
			if block == "" {
				if d != nil {
					t.Fatalf("discovery = %+v, want nil (off) when the key is absent", d)
				}
				return
			}
			if d == nil {
				t.Fatal("discovery is nil, want on with defaults")
			}
			if d.MaxAge != Duration(24*time.Hour) || d.MaxSessions != 10000 {
				t.Errorf("max_age %v, max_sessions %d; want 24h, 10000", d.MaxAge, d.MaxSessions)
			}
			if len(d.RetrievalIDs) != 0 || len(d.NameRegexps) != 0 || len(d.Regexps()) != 0 {
				t.Errorf("filters %v %v, want none", d.RetrievalIDs, d.NameRegexps)
			}
		})
	}
}

func TestLoadDiscoveryExplicit(t *testing.T) {
	cfg, err := Load(writeConfig(t, validServer+`    discovery:
      max_age: 90m
      max_sessions: 5
      retrieval_ids:
        - 8A76872B-7F2C-4C50-95F4-92C4D41BC47C
        - c0ffee00-1234-4abc-8def-0123456789ab
      name_regexps:
        - 'Exchange.*'
        - Teams data retrieval
`))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Servers[0].Discovery
	if d.MaxAge != Duration(90*time.Minute) || d.MaxSessions != 5 {
		t.Errorf("max_age %v, max_sessions %d", d.MaxAge, d.MaxSessions)
	}
	if got := fmt.Sprint(d.RetrievalIDs); got != "[8a76872b-7f2c-4c50-95f4-92c4d41bc47c c0ffee00-1234-4abc-8def-0123456789ab]" {
		t.Errorf("retrieval_ids = %s (want lower-case, in order)", got)
	}
	res := d.Regexps()
	if len(res) != 2 || len(d.NameRegexps) != 2 {
		t.Fatalf("regexps %v", d.NameRegexps)
	}
	// Anchored at both ends, as in Prometheus.
	for _, c := range []struct {
		re    int
		name  string
		match bool
	}{
		{0, "Exchange data retrieval", true},
		{0, "Old Exchange data retrieval", false},
		{1, "Teams data retrieval", true},
		{1, "Teams data retrieval (failed)", false},
	} {
		if got := res[c.re].MatchString(c.name); got != c.match {
			t.Errorf("%q matches %q = %v, want %v", d.NameRegexps[c.re], c.name, got, c.match)
		}
	}
	var nilDisc *DiscoveryConfig
	if nilDisc.Regexps() != nil {
		t.Error("nil discovery has regexps")
	}
}
