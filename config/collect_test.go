package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCollect(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantErr string
		want                []string
		wantMaxJobs         int
	}{
		{name: "default: every kind, no sessions needed", yaml: validServer, want: CollectKinds, wantMaxJobs: DefaultMaxJobs},
		{name: "narrowed", yaml: validServer + "    collect: [license, jobs]\n    max_jobs: 5\n", want: []string{CollectJobs, CollectLicense}, wantMaxJobs: 5},
		{name: "unknown kind", yaml: validServer + "    collect:\n      - jobs\n      - tenants\n",
			wantErr: `config.yml:8: servers[0].collect[1]: must be one of data_retrievals, jobs, license, repositories, proxies, organizations, restores`},
		{name: "repeated kind", yaml: validServer + "    collect: [jobs, jobs]\n",
			wantErr: `config.yml:6: servers[0].collect[1]: is listed twice (first at line 6)`},
		{name: "not a list", yaml: validServer + "    collect: jobs\n", wantErr: `config.yml:6: servers[0].collect: must be a list`},
		{name: "nothing to read", yaml: validServer + "    collect: []\n",
			wantErr: `config.yml:6: servers[0].collect: is empty and the server has no sessions and no discovery: nothing would be read`},
		{name: "only sessions", yaml: validServer + "    collect: []\n    sessions: [668f478c-0326-440a-8bdf-58cf39163ea2]\n", want: []string{}, wantMaxJobs: DefaultMaxJobs},
		{name: "max_jobs zero", yaml: validServer + "    max_jobs: 0\n", wantErr: `config.yml:6: servers[0].max_jobs: must be greater than 0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.yaml)
			cfg, err := Load(path)
			if tc.wantErr != "" {
				if err == nil || strings.ReplaceAll(relErr(err, filepath.Dir(path)), filepath.Dir(path), "DIR") != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sc := &cfg.Servers[0]
			var got []string
			for _, k := range CollectKinds {
				if sc.Collects(k) {
					got = append(got, k)
				}
			}
			if !slices.Equal(got, tc.want) || sc.MaxJobs != tc.wantMaxJobs {
				t.Errorf("collects %v max_jobs %d, want %v %d", got, sc.MaxJobs, tc.want, tc.wantMaxJobs)
			}
		})
	}
}

// TestTenantKeys: organizations_refresh and restore_window default to an hour, take any
// positive duration and name a zero or a bad value by line and key.
func TestTenantKeys(t *testing.T) {
	cfg, err := Load(writeConfig(t, validServer+"    organizations_refresh: 15m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc := cfg.Servers[0]; sc.OrganizationsRefresh != Duration(15*time.Minute) || sc.RestoreWindow != DefaultRestoreWindow {
		t.Errorf("organizations_refresh %v restore_window %v, want 15m 1h", sc.OrganizationsRefresh, sc.RestoreWindow)
	}
	for yaml, want := range map[string]string{
		"    restore_window: 0s\n":          `config.yml:6: servers[0].restore_window: must be greater than 0`,
		"    organizations_refresh: 0s\n":   `config.yml:6: servers[0].organizations_refresh: must be greater than 0`,
		"    organizations_refresh: soon\n": `config.yml:6: servers[0].organizations_refresh:`,
	} {
		path := writeConfig(t, validServer+yaml)
		_, err := Load(path)
		if err == nil || !strings.HasPrefix(strings.ReplaceAll(relErr(err, filepath.Dir(path)), filepath.Dir(path), "DIR"), want) {
			t.Errorf("%q: error %v, want %s", yaml, err, want)
		}
	}
}
