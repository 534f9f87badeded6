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
	srv.begin()
	srv.mu.Unlock()
	defer srv.release()
	return srv.client.LogItems(ctx, path)
}

// ListRestoreSessions streams the restore sessions q selects, bounded and scrubbed by the
// client, for tools that show who restored what. It counts as a read, like LogItems.
func (srv *Server) ListRestoreSessions(ctx context.Context, q vb365.RestoreQuery, fn func(vb365.RestoreSession)) (vb365.ListStats, error) {
	srv.mu.Lock()
	srv.begin()
	srv.mu.Unlock()
	defer srv.release()
	return srv.client.RestoreSessions(ctx, q, fn)
}
