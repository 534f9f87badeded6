package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The kinds a server reads besides its sessions (collect:).
const (
	CollectDataRetrievals = "data_retrievals"
	CollectJobs           = "jobs"
	CollectLicense        = "license"
	CollectRepositories   = "repositories"
	CollectProxies        = "proxies"
	CollectOrganizations  = "organizations"
	CollectRestores       = "restores"
)

// CollectKinds lists the kinds collect: may name, in the order they are read.
var CollectKinds = []string{CollectDataRetrievals, CollectJobs, CollectLicense, CollectRepositories, CollectProxies,
	CollectOrganizations, CollectRestores}

// Defaults of the keys beside collect: when the file sets none.
const (
	DefaultMaxJobs              = 1000
	DefaultOrganizationsRefresh = Duration(time.Hour)
	DefaultRestoreWindow        = Duration(time.Hour)
)

// Collects reports whether the server reads kind: every kind when collect is not set.
func (s *ServerConfig) Collects(kind string) bool {
	return s.Collect == nil || slices.Contains(s.Collect, kind)
}

// checkCollect validates collect and max_jobs. A server that reads nothing at all (no
// sessions, no discovery, an empty collect) is a mistake; one with only the installation's
// kinds is not.
func (l *loader) checkCollect(sc *ServerConfig, path string) {
	orDefault(l, &sc.MaxJobs, path+".max_jobs", DefaultMaxJobs)
	orDefault(l, &sc.OrganizationsRefresh, path+".organizations_refresh", DefaultOrganizationsRefresh)
	orDefault(l, &sc.RestoreWindow, path+".restore_window", DefaultRestoreWindow)
	paths := l.lists[path+".collect"]
	seen := map[string]string{}
	for i, k := range sc.Collect {
		if !slices.Contains(CollectKinds, k) {
			l.add(l.lineOf(paths[i]), paths[i], "must be one of "+strings.Join(CollectKinds, ", "))
		} else if first, dup := seen[k]; dup {
			l.add(l.lineOf(paths[i]), paths[i], fmt.Sprintf("is listed twice (first at line %d)", l.lineOf(first)))
		} else {
			seen[k] = paths[i]
		}
	}
	if sc.Collect != nil && len(sc.Collect) == 0 && len(sc.Sessions) == 0 && sc.Discovery == nil {
		l.add(l.lineOf(path+".collect"), path+".collect", "is empty and the server has no sessions and no discovery: nothing would be read")
	}
}
