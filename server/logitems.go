package server

import (
	"context"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// SessionLogItems reads one data retrieval session's log, oldest first, bounded and scrubbed
// by the client, for tools that show a session's log. It counts as a read, like
// ListAllSessions, so that Close waits for it before the token is logged out.
func (srv *Server) SessionLogItems(ctx context.Context, sessionID vb365.ID) ([]vb365.LogItem, error) {
	srv.mu.Lock()
	srv.reads++
	srv.mu.Unlock()
	defer srv.release()
	return srv.client.SessionLogItems(ctx, sessionID)
}
