//go:build unix

// The Chromium test puts the browser in its own process group to clean up after it, which
// is Unix-only; CI runs it on Debian.

package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vb365-exporter/vb365_exporter/internal/testenv"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// screenshotEnv set to 1 makes TestLandingPageInChromium write docs/landing-page.png, the
// README's screenshot; CI leaves it unset so that a test run never changes the tree.
const screenshotEnv = "UPDATE_SCREENSHOT"

func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	return testenv.RequireTool(t, name, install)
}

// runChromium runs headless Chromium once on url with extra args and returns its stdout.
// Each run gets its own profile and process group, so nothing of it outlives the test.
func runChromium(t *testing.T, bin, url string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile, err := os.MkdirTemp("", "vb365-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	full := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + profile,
	}, args...)
	cmd := exec.CommandContext(ctx, bin, append(full, url)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	// Chromium's helper processes (zygote, crashpad) may linger after the browser exits.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 20))
	}
	return stdout.Bytes()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestLandingPageInChromium renders the landing page in a real browser: every session of the
// simulator is in the table with the status of the scrape, the session whose name is HTML
// is shown as text, and the screenshot for the README comes out of the same run.
const (
	htmlNameID = "abcdef00-0000-4000-8000-000000000088"
	htmlName   = `<b>Teams & "Co"</b>`
)

func TestLandingPageInChromium(t *testing.T) {
	bin := requireTool(t, "chromium", "apt-get install -y chromium")
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	// A name with markup, which the demo data does not show to people: the page must render
	// it as text.
	if err := sim.sim.AddSession(simulator.Session{ID: htmlNameID, Name: htmlName, RetrievalID: simulator.DemoTeamsRetrievalID,
		Type: simulator.TypeRetrieve, Status: simulator.StatusSuccess, CreationTime: time.Now().Add(-time.Hour), EndTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ids := append(simulator.DemoSessionIDs(), htmlNameID, unknownID)
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: "v8", sim: sim, sessions: ids})
	exp := startExporter(t, cfg)
	scraped := scrape(t, exp.url+"/metrics", nil)

	dom := runChromium(t, bin, exp.url+"/", "--dump-dom")
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	section := serverSection(t, doc, "prod")
	rows := sessionTable(t, section)
	checkSessionRows(t, rows, scraped, sim.sim, ids)
	checkDemoReasons(t, section)

	// Status colours come from classes; a badge without its class loses its meaning.
	for id, r := range rows {
		st, ok := sim.sim.Session(id)
		class := "st-notread"
		if ok {
			class = "st-" + strings.ToLower(st.Status)
		}
		if badges := domAll(r["Status"], domClass("badge")); len(badges) != 1 || !domClass(class)(badges[0]) {
			t.Errorf("session %s: status badge without class %s", id, class)
		}
	}

	htmlRow, ok := rows[htmlNameID]
	if !ok {
		t.Fatal("the session with an HTML name is missing")
	}
	names := domAll(htmlRow["Name · type"], domClass("sname"))
	if len(names) != 1 || domText(names[0]) != htmlName {
		t.Errorf("HTML name shown as %q, want the text %q", htmlRow.text("Name · type"), htmlName)
	}
	if n := len(domAll(doc, domTag("b"))); n != 0 {
		t.Errorf("the browser built %d <b> elements: a session name was rendered as markup", n)
	}

	// The screenshot in docs/ shows what `make demo` shows a user: the demo sessions and an
	// unknown ID, without the markup test above.
	shotExp := startExporter(t, writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: "v8", sim: sim,
		sessions: append(simulator.DemoSessionIDs(), unknownID)}))
	scrape(t, shotExp.url+"/metrics", nil)
	shot := filepath.Join(t.TempDir(), "landing-page.png")
	// Tall enough for the whole demo page, down to the data retrievals and their expiry.
	const shotW, shotH = 1280, 1500
	runChromium(t, bin, shotExp.url+"/", "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", shotW, shotH))
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != shotW || b.Dy() != shotH {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), shotW, shotH)
	}
	if os.Getenv(screenshotEnv) == "1" {
		if err := os.WriteFile(filepath.Join("docs", "landing-page.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/landing-page.png")
	}
}
