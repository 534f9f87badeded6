package main

import (
	"runtime/debug"
	"testing"

	"github.com/prometheus/common/version"
)

// The pieces of version stamping a binary without VCS data relies on.
func TestVersionFromBuildInfo(t *testing.T) {
	for v, want := range map[string]string{
		"v0.0.0-20261202074500-abcdef123456":         "abcdef123456",
		"v0.1.1-0.20261202074500-abcdef123456+dirty": "abcdef123456",
		"v0.1.0":     "",
		"(devel)":    "",
		"v1.0.0-rc1": "",
	} {
		if got := pseudoVersionRevision(v); got != want {
			t.Errorf("pseudoVersionRevision(%q) = %q, want %q", v, got, want)
		}
	}
	saved := [...]string{version.Version, version.Revision, version.Branch, version.BuildDate}
	t.Cleanup(func() {
		version.Version, version.Revision, version.Branch, version.BuildDate = saved[0], saved[1], saved[2], saved[3]
	})
	version.Version, version.Revision, version.Branch, version.BuildDate = "", "", "", ""
	stampVersion("1.2.3", &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "true"},
		{Key: "vcs.time", Value: "2026-12-02T07:00:00Z"}}})
	if version.Version != "1.2.3" || version.Revision != "0123456789abcdef0123456789abcdef01234567-modified" || version.BuildDate != "2026-12-02T07:00:00Z" {
		t.Errorf("stamped %q %q %q", version.Version, version.Revision, version.BuildDate)
	}
	// ldflags win.
	version.Version, version.Revision = "9.9.9", "abc"
	stampVersion("1.2.3", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "def"}}})
	if version.Version != "9.9.9" || version.Revision != "abc" {
		t.Errorf("ldflags values replaced: %q %q", version.Version, version.Revision)
	}
}
