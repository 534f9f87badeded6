package vb365

import (
	"fmt"
	"strings"
	"testing"
)

// The pair below is issue 19's CPU case: a log item of 7,000 bytes, honest or made of
// percent-encoded near-copies of the password (each one character off, which made the old
// matcher walk every copy). Masking must be linear: `make bench` reports the ratio of the
// two (bench/loadtest), which must stay at most 2.

const benchLogItemBytes = 7000

// HonestLogMessage is what a VB365 log item says, repeated to n bytes.
func honestLogMessage(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "Processing mailbox user%d@contoso.onmicrosoft.com (Exchange Online): %d items processed, %d.%d MB transferred. ", i, 37*i%1000, i%97, i%10)
	}
	return b.String()[:n]
}

// hostileLogMessage is n bytes of percent-encoded copies of password, each with one byte
// changed, so that every copy matches all but one of its pieces.
func hostileLogMessage(password string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		near := []byte(password)
		near[i%len(near)] ^= 1
		for _, c := range near {
			fmt.Fprintf(&b, "%%%02X", c)
		}
		b.WriteByte(' ')
	}
	return b.String()[:n]
}

func benchmarkText(b *testing.B, msg string) {
	m := masks{newForms(`EXAMPLE\monitoring`, echoPassword, strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", 40), "refresh-"+strings.Repeat("r", 64))}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		m.text(msg, maxLogMessage)
	}
}

func BenchmarkTextHonestLog(b *testing.B) { benchmarkText(b, honestLogMessage(benchLogItemBytes)) }

func BenchmarkTextHostileLog(b *testing.B) {
	benchmarkText(b, hostileLogMessage(echoPassword, benchLogItemBytes))
}

// The hostile text is what it claims to be: near-copies that the scrubber does not mask
// whole (they are not the password) but reads as escapes.
func TestHostileLogMessageIsNearCopies(t *testing.T) {
	msg := hostileLogMessage(echoPassword, benchLogItemBytes)
	if len(msg) != benchLogItemBytes || strings.Count(msg, "%") < benchLogItemBytes/4 {
		t.Fatalf("hostile message: %d bytes, %d escapes", len(msg), strings.Count(msg, "%"))
	}
	if got := Scrub(honestLogMessage(benchLogItemBytes), echoPassword); got != honestLogMessage(benchLogItemBytes) {
		t.Error("the honest message is changed by scrubbing")
	}
}
