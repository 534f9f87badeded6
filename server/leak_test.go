package server

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine outlives them: a worker or a
// shared read left running is a leak in a long-running exporter.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
