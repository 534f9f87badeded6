//go:build !windows

package winsvc

import (
	"context"
	"errors"
	"io"
	"testing"
)

func TestRunIsNotAServiceOutsideWindows(t *testing.T) {
	called := false
	isService, code := Run("vb365_exporter", func(context.Context) int {
		called = true
		return 7
	})
	if isService || code != 0 || called {
		t.Errorf("Run = (%v, %d), run called: %v; want (false, 0), not called", isService, code, called)
	}
}

func TestMainIsNotAServiceOutsideWindows(t *testing.T) {
	called := false
	isService, code := Main("vb365_exporter", func(context.Context, []string, io.Writer, io.Writer) int {
		called = true
		return 7
	}, []string{"--config.file=x.yml"})
	if isService || code != 0 || called {
		t.Errorf("Main = (%v, %d), main called: %v; want (false, 0), not called", isService, code, called)
	}
}

func TestServiceWriterUnsupportedOutsideWindows(t *testing.T) {
	if w, err := NewServiceWriter("vb365_exporter"); !errors.Is(err, errors.ErrUnsupported) || w != nil {
		t.Errorf("NewServiceWriter = %v, %v; want nil, ErrUnsupported", w, err)
	}
}
