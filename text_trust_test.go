package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// textPassword has a double space, and 13 characters once collapsed, so that a split into
// two log items leaves each part shorter than a piece (8 characters).
const textPassword = "Wx7  Qz9-Kp2!m"

// passwordForms are the ways issue 19 found a hostile server could still show the
// password: letter case, white space, a piece, base64 of the password and of the basic
// credentials in both alphabets with and without padding, percent and JSON escapes.
func passwordForms() map[string]string {
	var allU strings.Builder
	for _, r := range textPassword {
		fmt.Fprintf(&allU, `\u%04x`, r)
	}
	forms := map[string]string{
		"upper":           strings.ToUpper(textPassword),
		"lower":           strings.ToLower(textPassword),
		"collapsed":       "Wx7 Qz9-Kp2!m",
		"tab and newline": "Wx7\t\nqZ9-kP2!M",
		"piece":           "qz9-kp2!",
		"percent":         url.QueryEscape(textPassword),
		"json":            allU.String(),
	}
	for name, enc := range map[string]*base64.Encoding{"std": base64.StdEncoding, "raw std": base64.RawStdEncoding,
		"url": base64.URLEncoding, "raw url": base64.RawURLEncoding} {
		forms["base64 "+name] = enc.EncodeToString([]byte(textPassword))
		forms["base64 user:password "+name] = enc.EncodeToString([]byte(simUser + ":" + textPassword))
	}
	return forms
}

// formatChars can make one name look like another (zero width, right-to-left override,
// isolate, byte order mark); issue 19 point 7.
var formatChars = []string{"\u200b", "\u202e", "\u2066", "\ufeff"}

// leaks lists what of the password shows in out: any 8-character piece, compared
// case-insensitively with white space collapsed, in out as is and with JSON's and Go's
// escapes of out undone; a form of it; a format character.
func leaks(out string) []string {
	var found []string
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	pw := norm(textPassword)
	unescaped := strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">", `\\`, `\`, `\"`, `"`).Replace(out)
	for _, text := range []string{norm(out), norm(unescaped)} {
		for i := 0; i+8 <= len(pw); i++ {
			if strings.Contains(text, pw[i:i+8]) {
				found = append(found, "piece "+pw[i:i+8])
			}
		}
	}
	for name, form := range passwordForms() {
		if strings.Contains(strings.ToLower(out), strings.ToLower(form)) {
			found = append(found, name)
		}
	}
	for _, c := range formatChars {
		if strings.Contains(out, c) || strings.Contains(strings.ToLower(out), fmt.Sprintf(`\u%04x`, []rune(c)[0])) {
			found = append(found, fmt.Sprintf("format character %U", []rune(c)[0]))
		}
	}
	return found
}

// Every form of the password a server echoes, in session names and log messages, and
// every format character, is absent from /metrics, the landing page, the exporter's log
// and every `sessions` output (list as table, JSON and YAML; log as table and JSON). The
// password also comes split across two consecutive log items. Fails on the code before
// issue 19 (upper case, base64, pieces, split and collapsed forms passed).
// masked counts the masks in a CLI output, JSON escaping them as encoding/json does.
func masked(out string) int {
	return strings.Count(out, "<secret>") + strings.Count(out, `\u003csecret\u003e`)
}

func TestNoPasswordFormOrFormatCharacterInAnyOutput(t *testing.T) {
	sim := startSim(t, simulator.Options{Username: simUser, Password: textPassword})
	now := time.Now()
	var ids []string
	add := func(name string, msgs ...string) string {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(ids)+1)
		if err := sim.sim.AddSession(simulator.Session{ID: id, Name: name, RetrievalID: "10000000-0000-4000-8000-000000000001",
			CreationTime: now.Add(-time.Hour), EndTime: now.Add(-time.Minute), Type: simulator.TypeRetrieve,
			Status: simulator.StatusFailed}); err != nil {
			t.Fatal(err)
		}
		items := []simulator.LogItem{{Type: simulator.LogRunning, Message: "Retrieval started", CreationTime: now.Add(-59 * time.Minute)}}
		for i, m := range msgs {
			items = append(items, simulator.LogItem{Type: simulator.LogError, Message: m, CreationTime: now.Add(-30*time.Minute + time.Duration(i)*time.Second)})
		}
		if err := sim.sim.SetLogItems(id, items); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		return id
	}
	for name, form := range passwordForms() {
		add("restore "+form+" ("+name+")", "Logon as "+simUser+" with "+form+" failed")
	}
	split := add("split", "Logon with Wx7 Qz", "9-Kp2!m was refused")
	splitShort := add("split short", "Logon with Wx7", "Qz9-Kp2!m was refused")
	cf := add("Mail\u200bbox \u202erestore\u2066 one\ufeff", "Mailbox\u200b alice\u202e@contoso\u2066.com\ufeff not found")
	// The same forms in backup jobs: their names and their latest session's log.
	var jobs []string
	for _, name := range slices.Sorted(maps.Keys(passwordForms())) {
		form := passwordForms()[name]
		n := len(jobs) + 1
		job := fmt.Sprintf("10b50000-0000-4000-8000-%012d", n)
		if err := sim.sim.AddJob(simulator.Job{ID: job, Name: "Backup \u202e" + form + "\u200b (" + name + ")",
			LastRun: now.Add(-2 * time.Hour), LastStatus: simulator.StatusFailed}); err != nil {
			t.Fatal(err)
		}
		if err := sim.sim.AddJobSession(simulator.JobSession{ID: fmt.Sprintf("5e550000-0000-4000-8000-%012d", n), JobID: job,
			CreationTime: now.Add(-2 * time.Hour), EndTime: now.Add(-time.Hour), Status: simulator.StatusFailed,
			Log: []simulator.LogItem{{Type: simulator.LogError, Message: "Logon as " + simUser + " with " + form + " failed",
				CreationTime: now.Add(-90 * time.Minute)}}}); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, job)
	}
	// And in restores (issue 21): who started them, why, from where, of which organization;
	// ended within the window (the recent gauge, the audit line) or running (the running
	// gauge, whose initiated_by label is the operator).
	var restores int
	for _, name := range slices.Sorted(maps.Keys(passwordForms())) {
		form := passwordForms()[name]
		restores++
		rs := simulator.RestoreSession{ID: fmt.Sprintf("4e550000-0000-4000-8000-%012d", restores),
			Organization: "Org \u202e" + form + "\u200b", Type: "Vex", CreationTime: now.Add(-2 * time.Hour), EndTime: now.Add(-30 * time.Minute),
			Result: simulator.StatusFailed, InitiatedBy: `EXAMPLE\` + form + "\u2066", ClientHost: form + ".example", ScopeName: form,
			Reason: "Asked by " + simUser + " with " + form + " (" + name + ")", Details: "Logon with " + form + " failed"}
		if restores%3 == 0 {
			rs.EndTime = time.Time{}
		}
		if err := sim.sim.AddRestoreSession(rs); err != nil {
			t.Fatal(err)
		}
	}
	// And in organizations' names (issue 21): labels of vb365_organization_info.
	var orgs int
	for _, name := range slices.Sorted(maps.Keys(passwordForms())) {
		orgs++
		if err := sim.sim.AddOrganization(simulator.Organization{ID: fmt.Sprintf("0e9a0000-0000-4000-8000-%012d", orgs),
			Name: "Tenant \u202e" + passwordForms()[name] + "\u200b (" + name + ")"}); err != nil {
			t.Fatal(err)
		}
	}

	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "vb", sim: sim, password: textPassword, sessions: ids})
	exp := startExporter(t, cfg)
	var metrics string
	for range 5 { // logs are read over scrapes; all are there well before the fifth
		metrics = scrape(t, exp.url+"/metrics", nil).body
		if strings.Count(metrics, "vb365_data_retrieval_session_reason_info{") == len(ids) &&
			strings.Count(metrics, "vb365_job_last_session_reason_info{") == len(jobs) {
			break
		}
	}
	if n := strings.Count(metrics, "vb365_organization_info{"); n != orgs {
		t.Fatalf("%d of %d organizations in /metrics:\n%s", n, orgs, metrics)
	}
	if n := strings.Count(metrics, "vb365_job_last_session_reason_info{"); n != len(jobs) {
		t.Fatalf("%d reasons of %d jobs in /metrics:\n%s", n, len(jobs), metrics)
	}
	if n := strings.Count(metrics, "vb365_data_retrieval_session_reason_info{"); n != len(ids) {
		t.Fatalf("%d reasons of %d sessions in /metrics:\n%s", n, len(ids), metrics)
	}
	resp, err := http.Get(exp.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	outputs := map[string]string{"/metrics": metrics, "landing page": string(page)}
	for _, format := range []string{"table", "json", "yaml"} {
		code, out, errOut := runCmd(t, "sessions", "--config.file="+cfg, "--output="+format)
		if code != 0 {
			t.Fatalf("sessions -o %s: exit %d: %s", format, code, errOut)
		}
		outputs["sessions -o "+format] = out + errOut
	}
	for _, format := range []string{"table", "json"} {
		code, out, errOut := runCmd(t, "jobs", "--config.file="+cfg, "--output="+format)
		if code != 0 || masked(out) < len(jobs) {
			t.Fatalf("jobs -o %s: exit %d, fewer masked echoes than jobs: %s%s", format, code, out, errOut)
		}
		outputs["jobs -o "+format] = out + errOut
		for _, job := range jobs[:3] {
			code, out, errOut := runCmd(t, "jobs", "log", "--config.file="+cfg, "--output="+format, job)
			if code != 0 || masked(out) == 0 {
				t.Fatalf("jobs log %s -o %s: exit %d, no masked echo: %s%s", job, format, code, out, errOut)
			}
			outputs["jobs log "+job+" -o "+format] = out + errOut
		}
	}
	for _, format := range []string{"table", "json"} {
		code, out, errOut := runCmd(t, "restores", "--config.file="+cfg, "--output="+format)
		if code != 0 || masked(out) < restores {
			t.Fatalf("restores -o %s: exit %d, fewer masked echoes than restores: %s%s", format, code, out, errOut)
		}
		outputs["restores -o "+format] = out + errOut
	}
	for _, id := range ids {
		for _, format := range []string{"table", "json"} {
			code, out, errOut := runCmd(t, "sessions", "log", "--config.file="+cfg, "--output="+format, id)
			if code != 0 {
				t.Fatalf("sessions log %s -o %s: exit %d: %s", id, format, code, errOut)
			}
			outputs["sessions log "+id+" -o "+format] += out + errOut
		}
	}
	exp.stop()
	outputs["exporter log"] = exp.logs.String()
	for name, out := range outputs {
		if !utf8.ValidString(out) {
			t.Errorf("%s is not valid UTF-8", name)
		}
		if l := leaks(out); len(l) > 0 {
			t.Errorf("%s shows %q", name, l)
		}
	}
	// The echoes reached every output, masked: otherwise this test proves nothing.
	for _, want := range []struct{ output, text string }{
		{"/metrics", `message="Logon as EXAMPLE\\monitoring with <secret> failed"`},
		{"/metrics", `message="<secret> was refused"`}, // the split's reason, masked with its neighbour
		{"/metrics", `name="Mailbox restore one"`},     // format characters dropped, not spaces
		{"/metrics", `name="Tenant <secret> (upper)"`},
		{"/metrics", `message="Mailbox alice@contoso.com not found"`},
		{"landing page", "&lt;secret&gt; was refused"},
		{"sessions -o table", "Mailbox restore one"},
		{"sessions log " + split + " -o table", "Logon with <secret>"},
		{"sessions log " + split + " -o json", `"message": "\u003csecret\u003e was refused"`},
		{"sessions log " + splitShort + " -o json", `"message": "\u003csecret\u003e was refused"`},
		{"sessions log " + cf + " -o json", `"message": "Mailbox alice@contoso.com not found"`},
		{"restores -o table", `EXAMPLE\<secret>`},
		{"/metrics", `vb365_restore_sessions_running{initiated_by="EXAMPLE\\<secret>",organization="Org <secret>",server="vb",type="Exchange"}`},
		{"/metrics", `vb365_restore_sessions_recent{organization="Org <secret>",result="Failed",server="vb",type="Exchange"}`},
		{"exporter log", `msg="restore session ended" id=4e550000-0000-4000-8000-000000000001 organization="Org <secret>" type=Exchange initiated_by=EXAMPLE\<secret>`},
		{"landing page", `EXAMPLE\&lt;secret&gt;`}, // the last restores, by who started them
		{"restores -o json", `"reason": "Asked by EXAMPLE\\monitoring with \u003csecret\u003e (upper)"`},
	} {
		if !strings.Contains(outputs[want.output], want.text) {
			t.Errorf("%s does not show %s:\n%s", want.output, want.text, outputs[want.output])
		}
	}
}
