//go:build !windows

package winsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
)

// Run reports isService=false at once: only Windows has a service control
// manager that starts the exporter this way. systemd and container runtimes
// start it as an ordinary process that handles SIGTERM.
func Run(string, func(ctx context.Context) int) (isService bool, exitCode int) {
	return false, 0
}

// NewServiceWriter fails outside Windows, where there is no event log; log to stderr and
// let systemd's journal or the container runtime collect it.
func NewServiceWriter(name string) (io.WriteCloser, error) {
	return nil, fmt.Errorf("event log source %q: no event log on %s: %w", name, runtime.GOOS, errors.ErrUnsupported)
}
