package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// The scrubbing scenario of issue 19 point 3: the logs of 8 Failed sessions, 10,000 items
// of 7,000 bytes in all, honest or made of percent-encoded near-copies of the password
// (each one byte off, which made the old matcher walk every copy). Masking is linear in
// the text, so the hostile logs may cost at most twice the exporter CPU of honest ones.
const (
	scrubSessions  = 8
	scrubItems     = 10000
	scrubItemBytes = 7000
)

// scrubMessage is item k's message: what a VB365 log says, or near-copies of the password.
func scrubMessage(hostile bool, k int) string {
	var b strings.Builder
	for i := k; b.Len() < scrubItemBytes; i++ {
		if !hostile {
			fmt.Fprintf(&b, "Processing mailbox user%d@contoso.onmicrosoft.com (Exchange Online): %d items processed, %d.%d MB transferred. ", i, 37*i%1000, i%97, i%10)
			continue
		}
		near := []byte(benchPassword)
		near[i%len(near)] ^= 1
		for _, c := range near {
			fmt.Fprintf(&b, "%%%02X", c)
		}
		b.WriteByte(' ')
	}
	return b.String()[:scrubItemBytes]
}

// runScrub measures the exporter CPU of reading the honest logs, then the hostile ones.
func runScrub(o options, w io.Writer, t *table) error {
	var cpu [2]float64
	for i, hostile := range []bool{false, true} {
		var err error
		if cpu[i], err = scrubCPU(o, hostile); err != nil {
			return err
		}
	}
	items := scrubItems / o.scale
	name := fmt.Sprintf("session logs, %d items of %d bytes", items, scrubItemBytes)
	fmt.Fprintf(w, "%-40s exporter CPU to read them: honest %6.3fs, hostile (percent-encoded near-copies of the password) %6.3fs\n\n", name, cpu[0], cpu[1])
	r := cpu[1] / cpu[0]
	t.row(name+": CPU, hostile / honest", fmt.Sprintf("%.3fs / %.3fs", cpu[1], cpu[0]), "", r, "<= 2", r <= 2)
	return nil
}

// scrubCPU is the exporter's CPU from its first scrape until every session's reason is
// exported, the logs read whole.
func scrubCPU(o options, hostile bool) (float64, error) {
	dir, err := os.MkdirTemp("", "vb365-loadtest-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	s := simulator.New(simulator.Options{Username: benchUser, Password: benchPassword})
	now := time.Now()
	perLog := scrubItems / o.scale / scrubSessions
	ids := make([]string, scrubSessions)
	for i := range ids {
		ids[i] = fmt.Sprintf("5c0b0000-0000-4000-8000-%012d", i)
		if err := s.AddSession(simulator.Session{ID: ids[i], Name: fmt.Sprintf("Retrieval %d", i), RetrievalID: ids[0],
			CreationTime: now.Add(-2 * time.Hour), EndTime: now.Add(-time.Hour), Type: simulator.TypeRetrieve, Status: simulator.StatusFailed}); err != nil {
			return 0, err
		}
		log := make([]simulator.LogItem, perLog)
		for k := range log {
			log[k] = simulator.LogItem{Type: simulator.LogRunning, Message: scrubMessage(hostile, k), CreationTime: now.Add(-2*time.Hour + time.Duration(k)*time.Millisecond)}
		}
		log[len(log)-1].Type = simulator.LogError
		if err := s.SetLogItems(ids[i], log); err != nil {
			return 0, err
		}
	}
	sm, err := serveSim(dir, s, 0)
	if err != nil {
		return 0, err
	}
	defer sm.close()
	e, err := startExporterVersion(o.exporter, dir, sm, "v8", ids, 8, "10m")
	if err != nil {
		return 0, err
	}
	defer e.stop()
	cpu0, err := cpuSeconds(e.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	for i := 0; ; i++ {
		body, err := e.body()
		if err != nil {
			return 0, err
		}
		if bytes.Count(body, []byte("\nvb365_data_retrieval_session_reason_info{")) == scrubSessions {
			break
		}
		if i > 20 {
			return 0, fmt.Errorf("scrub: the logs were not read in %d scrapes\n%s", i, e.logs.String())
		}
	}
	cpu1, err := cpuSeconds(e.cmd.Process.Pid)
	return cpu1 - cpu0, err
}
