//go:build !windows

package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPasswordFileMustBeASmallRegularFile: password_file is checked before it is read, so a
// FIFO does not block Load, and /dev/zero or a 1 GiB file do not take the memory; each is a
// problem naming password_file.
func TestPasswordFileMustBeASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse: no disk, but 1 GiB to read
		t.Fatal(err)
	}
	f.Close()
	if err := os.Symlink(big, filepath.Join(dir, "link-to-big")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "over"), strings.Repeat("x", maxPasswordFileSize+1))
	writeFile(t, filepath.Join(dir, "limit"), strings.Repeat("x", maxPasswordFileSize))
	if err := os.Symlink(filepath.Join(dir, "limit"), filepath.Join(dir, "link-to-limit")); err != nil {
		t.Fatal(err)
	}
	const prefix = "config.yml:5: servers[0].password_file: "
	for name, c := range map[string]struct{ file, want string }{
		"FIFO":                   {fifo, prefix + "must be a regular file, not a named pipe (FIFO)"},
		"/dev/zero":              {"/dev/zero", prefix + "must be a regular file, not a device"},
		"1 GiB sparse file":      {big, prefix + "must be a file of at most 64 KiB"},
		"symlink to 1 GiB":       {filepath.Join(dir, "link-to-big"), prefix + "must be a file of at most 64 KiB"},
		"64 KiB and one byte":    {filepath.Join(dir, "over"), prefix + "must be a file of at most 64 KiB"},
		"directory":              {dir, prefix + "must be a regular file, not a directory"},
		"64 KiB through symlink": {filepath.Join(dir, "link-to-limit"), ""},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, "servers:\n  - name: a\n    url: https://h\n    username: u\n    password_file: "+c.file+"\n")
			done := make(chan error, 1)
			go func() {
				_, err := Load(path)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute): // a guard against a hang, not a timing assertion
				// Give the blocked reader a writer, so that the goroutine ends.
				if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					_ = w.Close()
				}
				if err := <-done; err == nil {
					t.Log("the load ended once the FIFO had a writer")
				}
				t.Fatal("Load blocked on the password file")
			}
			got := ""
			if err != nil {
				got = relErr(err, filepath.Dir(path))
			}
			if got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestProblemsNeverEchoAFileThatIsNotAConfig: a config path pointing (here through a
// symlink) at a shadow-like file gets one problem per line, none of which shows the line.
func TestProblemsNeverEchoAFileThatIsNotAConfig(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		"root:$6$Zq1xY2wVabcd$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abc:19000:0:99999:7:::",
		"daemon:*:19000:0:99999:7:::",
		"alice:$y$j9T$saltsaltsalt$hashhashhashhashhashhashhashhashhashhash123:19500:0:99999:7:::",
	}
	shadow := filepath.Join(dir, "shadow")
	writeFile(t, shadow, strings.Join(lines, "\n")+"\n")
	path := filepath.Join(dir, "config.yml")
	if err := os.Symlink(shadow, path); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load accepted a shadow file")
	}
	want := []string{
		path + ":1: unknown key (not shown: not a plain name); expected one of: servers",
		path + ":2: unknown key (not shown: not a plain name); expected one of: servers",
		path + ":3: unknown key (not shown: not a plain name); expected one of: servers",
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	for _, line := range lines {
		for _, field := range strings.Split(line, ":") {
			if len(field) >= 5 && strings.Contains(err.Error(), field) {
				t.Errorf("the error shows %q of the file:\n%s", field, err)
			}
		}
	}
}
