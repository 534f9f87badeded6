package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fiveMistakes has one mistake of each kind a newcomer makes, on lines 5 to 9.
const fiveMistakes = `servers:
  - name: prod
    username: u
    password_file: missing-pw
    url: vb365.example.local:4443
    pasword: x
    tls_config:
      ca_file: missing-ca.pem
    sessions: [not-a-uuid]
`

// TestLoadReportsEveryProblem: one run names every mistake, each on its own line with its
// line and key, so a file with five mistakes does not take five rounds of --config.check.
func TestLoadReportsEveryProblem(t *testing.T) {
	path := writeConfig(t, fiveMistakes)
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load accepted five mistakes")
	}
	want := []string{
		`config.yml:4: servers[0].password_file: cannot read the file: no such file or directory`,
		`config.yml:5: servers[0].url: must start with http:// or https://`,
		`config.yml:6: servers[0]: unknown key "pasword"; expected one of: ` + strings.Join(serverKeys(), ", "),
		`config.yml:8: servers[0].tls_config.ca_file: cannot read the file: no such file or directory`,
		`config.yml:9: servers[0].sessions[0]: must be a UUID (such as 668f478c-0326-440a-8bdf-58cf39163ea2)`,
	}
	dir := filepath.Dir(path)
	got := strings.ReplaceAll(relErr(err, dir), dir, "DIR")
	if got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// TestLoadDecodeErrorsDoNotHideOthers: values that yaml cannot decode (a duration, a TLS
// version, a type) are reported beside the checks that follow them, not instead of them.
// The one exception: the keys after an unknown TLS version in its tls_config are checked
// once it is fixed, since promconfig's TLSVersion stops decoding that block.
func TestLoadDecodeErrorsDoNotHideOthers(t *testing.T) {
	path := writeConfig(t, `servers:
  - name: a
    url: https://h
    username: u
    password: pw0rd
    tls_config:
      insecure_skip_verify: maybe
      min_version: TLS14
    timeout: soon
    cache_ttl: -1m
    max_concurrent_requests: many
    max_retrievals: 0
    api_version: v9
  - name: a
    url: https://h
    username: ''
    password: pw0rd
    discovery:
      max_age: one day
      retrieval_ids: [~, nope]
`)
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load accepted the file")
	}
	want := []string{
		`config.yml:7: servers[0].tls_config.insecure_skip_verify: must be true or false`,
		`config.yml:8: servers[0].tls_config.min_version: must be one of TLS10, TLS11, TLS12, TLS13`,
		`config.yml:9: servers[0].timeout: must be a duration such as 30s, 5m or 1h`,
		`config.yml:10: servers[0].cache_ttl: must not be negative`,
		`config.yml:11: servers[0].max_concurrent_requests: must be an integer`,
		`config.yml:12: servers[0].max_retrievals: must be greater than 0`,
		`config.yml:13: servers[0].api_version: must be one of v6, v7, v8`,
		`config.yml:14: servers[1].name: duplicate server name (first defined at line 2)`,
		`config.yml:16: servers[1].username: must not be empty`,
		`config.yml:19: servers[1].discovery.max_age: must be a duration such as 30s, 5m or 1h`,
		`config.yml:20: servers[1].discovery.retrieval_ids[0]: must be a retrieval ID (UUID)`,
		`config.yml:20: servers[1].discovery.retrieval_ids[1]: must be a UUID (such as 668f478c-0326-440a-8bdf-58cf39163ea2)`,
	}
	if got := relErr(err, filepath.Dir(path)); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// TestLoadSyntaxErrorNamesTheWrongLine: yaml names the line where the enclosing block
// starts; the report names the line to fix.
func TestLoadSyntaxErrorNamesTheWrongLine(t *testing.T) {
	head := "servers:\n  - name: a\n    url: https://h\n"
	for name, c := range map[string]struct{ yaml, want string }{
		"tab-indented key": {head + "\tusername: u\n    password: p\n",
			"config.yml:4: invalid YAML: a tab in the indentation (YAML indents with spaces only)"},
		"tab-indented list": {"servers:\n\t- name: a\n",
			"config.yml:2: invalid YAML: a tab in the indentation (YAML indents with spaces only)"},
		"indented too little": {head + "   username: u\n    password: p\n",
			"config.yml:4: invalid YAML: did not find expected '-' indicator"},
		"dedented into the list": {head + "  username: u\n",
			"config.yml:4: invalid YAML: did not find expected '-' indicator"},
		"indented too much": {head + "      username: u\n",
			"config.yml:4: invalid YAML: mapping values are not allowed in this context"},
		"nested block dedent": {"a:\n  b: 1\n c: 2\n",
			"config.yml:3: invalid YAML: did not find expected key"},
		"unterminated quote": {head + "    username: 'u\n",
			"config.yml:4: invalid YAML: found unexpected end of stream"},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, c.yaml)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load accepted invalid YAML")
			}
			if got := relErr(err, filepath.Dir(path)); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestLoadChecksTLSFiles: a TLS file that cannot be read or used fails the load at its key,
// not the first scrape.
func TestLoadChecksTLSFiles(t *testing.T) {
	for name, c := range map[string]struct {
		tls   string
		files map[string]string
		want  string
	}{
		"ca_file missing": {"      ca_file: ca.pem\n", nil,
			`config.yml:7: servers[0].tls_config.ca_file: cannot read the file: no such file or directory`},
		"ca_file not PEM": {"      ca_file: ca.pem\n", map[string]string{"ca.pem": "not a certificate"},
			`config.yml:7: servers[0].tls_config.ca_file: must hold a CA certificate in PEM`},
		"cert_file and key_file missing": {"      cert_file: c.pem\n      key_file: k.pem\n", nil,
			`config.yml:7: servers[0].tls_config.cert_file: cannot read the file: no such file or directory` + "\n" +
				`config.yml:8: servers[0].tls_config.key_file: cannot read the file: no such file or directory`},
		"key_file a directory": {"      cert_file: c.pem\n      key_file: .\n", map[string]string{"c.pem": "x"},
			`config.yml:8: servers[0].tls_config.key_file: must be a regular file, not a directory`},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, validServer+"    tls_config:\n"+c.tls)
			dir := filepath.Dir(path)
			for f, content := range c.files {
				writeFile(t, filepath.Join(dir, f), content)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load accepted the file")
			}
			if got := strings.ReplaceAll(relErr(err, dir), dir, "DIR"); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// TestLoadMergeKeys: settings shared through a YAML merge key count as written, so that
// defaults do not replace them.
func TestLoadMergeKeys(t *testing.T) {
	path := writeConfig(t, `servers:
  - &a
    name: a
    url: https://h
    username: u
    password: p
    timeout: 3s
    max_retrievals: 5
  - <<: *a
    name: b
`)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Servers[1]
	if b.Timeout != Duration(3*time.Second) || b.MaxRetrievals != 5 || b.URL != "https://h" || b.Secret() != "p" {
		t.Errorf("merged server b = %+v", b)
	}
}

// TestLoadDroppedListItems: yaml leaves out of a list the items it cannot decode (a wrong
// type, a repeated key) and null ones; the items after them still get their own lines.
func TestLoadDroppedListItems(t *testing.T) {
	path := writeConfig(t, `servers:
  - prod
  - ~
  - name: x
    name: y
  - name: a
    url: ftp://h
    username: u
    password: pw0rd
    sessions:
      - [x]
      - ~
      - nope
`)
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load accepted the file")
	}
	want := []string{
		`config.yml:2: servers[0]: must be a mapping`,
		`config.yml:3: servers[1]: must be a server (a mapping)`,
		`config.yml:4: servers[2].url: is required`,
		`config.yml:4: servers[2].username: is required`,
		`config.yml:4: servers[2].password: one of password or password_file is required`,
		`config.yml:5: servers[2].name: key is repeated (first at line 4)`,
		`config.yml:7: servers[3].url: has a scheme other than http and https`,
		`config.yml:11: servers[3].sessions[0]: must be a string`,
		`config.yml:12: servers[3].sessions[1]: must be a session ID (UUID)`,
		`config.yml:13: servers[3].sessions[2]: must be a UUID (such as 668f478c-0326-440a-8bdf-58cf39163ea2)`,
	}
	if got := relErr(err, filepath.Dir(path)); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// TestUnknownKeyIsCut: an unknown key is quoted to at most 40 characters, whatever its length.
func TestUnknownKeyIsCut(t *testing.T) {
	key := strings.Repeat("k", 200)
	path := writeConfig(t, validServer+"    "+key+": 1\n")
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load accepted an unknown key")
	}
	want := `config.yml:6: servers[0]: unknown key "` + strings.Repeat("k", 40) + `"…; expected one of: `
	if got := relErr(err, filepath.Dir(path)); !strings.HasPrefix(got, want) || strings.Contains(got, strings.Repeat("k", 41)) {
		t.Errorf("got  %s\nwant %s...", got, want)
	}
}

// TestProblemsNeverQuoteAValue: a value is never part of a problem, whatever the key: the
// line and key point at it.
func TestProblemsNeverQuoteAValue(t *testing.T) {
	const v = "Zz9-value-that-is-not-to-be-shown"
	head := "servers:\n  - name: a\n    url: https://h\n    username: u\n    password: p\n"
	for name, yml := range map[string]string{
		"url":                        "servers:\n  - name: a\n    url: ftp://" + v + "\n    username: u\n    password: p\n",
		"api_version":                head + "    api_version: " + v + "\n",
		"timeout":                    head + "    timeout: " + v + "\n",
		"max_requests":               head + "    max_concurrent_requests: " + v + "\n",
		"session":                    head + "    sessions: [" + v + "]\n",
		"regexp":                     head + "    discovery:\n      name_regexps: ['(" + v + "']\n",
		"tls version":                head + "    tls_config:\n      min_version: " + v + "\n",
		"ca_file":                    head + "    tls_config:\n      ca_file: " + v + "\n",
		"bool":                       head + "    tls_config:\n      insecure_skip_verify: " + v + "\n",
		"server name":                head + "  - name: a\n    url: https://h\n    username: " + v + "\n    password: p\n",
		"anchor":                     head + "    username: *" + v + "\n",
		"key with a value-like name": head + "    " + v + ":x: 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeConfig(t, yml))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if strings.Contains(err.Error(), "value-that") {
				t.Errorf("the error quotes the value: %s", err)
			}
		})
	}
}

// TestLoadAliasesCannotExpandWithoutEnd: a merge key naming its own mapping, or aliases
// nested to expand exponentially, end in a problem, not in a crash or a long walk.
func TestLoadAliasesCannotExpandWithoutEnd(t *testing.T) {
	var bomb strings.Builder // each level merges the one below twice: 2^40 merges
	bomb.WriteString("x:\n  - &m0 {timeout: 5s}\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&bomb, "  - &m%d {<<: [*m%d, *m%d]}\n", i, i-1, i-1)
	}
	bomb.WriteString("servers:\n  - <<: *m40\n    name: a\n    url: https://h\n    username: u\n    password: p\n")
	for name, c := range map[string]struct{ yaml, want string }{
		"merge of itself": {"servers:\n  - &s\n    <<: *s\n    name: a\n", "config.yml:3: servers[0]: a merge key (<<) must not name the mapping it is in"},
		"merge bomb":      {bomb.String(), "too many aliases"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeConfig(t, c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want a problem containing %q", err, c.want)
			}
		})
	}
}
