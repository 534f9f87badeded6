package main

import (
	"cmp"
	_ "embed"
	"runtime/debug"
	"strings"

	"github.com/prometheus/common/version"
)

// versionFile is the release version, embedded so that a plain `go build .` or `go install`
// reports it too; `make build` and the release builds stamp the same value with -ldflags.
//
//go:embed VERSION
var versionFile string

func init() {
	info, _ := debug.ReadBuildInfo()
	stampVersion(strings.TrimSpace(versionFile), info)
}

// stampVersion fills in what -ldflags did not set, from the VERSION file and from what the
// Go toolchain recorded about the checkout (vcs.revision, vcs.time, vcs.modified), so that
// --version, the build_info metric and the landing page footer name the source of any
// binary. prometheus/common/version already falls back to vcs.revision; the branch is not
// recorded by Go, so it stays unknown.
func stampVersion(file string, info *debug.BuildInfo) {
	version.Version, version.Branch = cmp.Or(version.Version, file), cmp.Or(version.Branch, "unknown")
	if info == nil {
		return
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if version.Revision == "" {
		switch rev := settings["vcs.revision"]; {
		case rev != "" && settings["vcs.modified"] == "true":
			version.Revision = rev + "-modified"
		case rev != "":
			version.Revision = rev
		default:
			// `go install module@version` builds from the module cache, which has no VCS
			// data; a pseudo-version still ends in the commit's 12-digit prefix.
			version.Revision = pseudoVersionRevision(info.Main.Version)
		}
	}
	version.BuildDate = cmp.Or(version.BuildDate, settings["vcs.time"])
}

// pseudoVersionRevision returns the commit of a pseudo-version such as
// v0.0.0-20261202074500-abcdef123456, or "" for anything else.
func pseudoVersionRevision(v string) string {
	v = strings.TrimSuffix(v, "+dirty")
	i := strings.LastIndexByte(v, '-')
	if i < 0 || len(v)-i-1 != 12 || strings.Count(v, "-") < 2 {
		return ""
	}
	rev := v[i+1:]
	for _, c := range rev {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return ""
		}
	}
	return rev
}
