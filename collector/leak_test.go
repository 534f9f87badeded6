package collector

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine outlives them: a stalled request,
// a forgotten timer or connection is a leak in a long-running exporter.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
