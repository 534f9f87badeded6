package server

import (
	"context"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// LogItems reads one log (vb365.SessionLogPath, vb365.JobSessionLogPath), oldest first,
// bounded and scrubbed by the client, for tools that show a session's log. It counts as a
// read, like ListAllSessions, so that Close waits for it before the token is logged out.
func (srv *Server) LogItems(ctx context.Context, path string) ([]vb365.LogItem, error) {
	srv.mu.Lock()
	srv.reads++
	srv.mu.Unlock()
	defer srv.release()
	return srv.client.LogItems(ctx, path)
}
