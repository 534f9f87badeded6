package vb365

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// logoutTimeout bounds a logout: it is a courtesy to the server at reload or shutdown and
// must not hold either up for long.
const logoutTimeout = 5 * time.Second

// Logout ends the client's logon session on the server (POST /vN/token/logout, which
// invalidates the access token and its refresh token), so that no live token outlives the
// client. It is best effort: the token is forgotten whatever the answer, and a later call
// logs in again. v6 has no logout; there, and without a token, it sends nothing.
//
// It is not counted in the self-metrics: it runs when a server leaves the config, whose
// series are being removed, or at shutdown.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	tok := c.token
	c.token = nil
	c.mu.Unlock()
	if tok == nil || tok.access == "" || c.version == "v6" {
		return nil
	}
	if err := c.waitingForRetryAfter("logout"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, min(logoutTimeout, c.timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpointURL("/token/logout"), http.NoBody)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.access)
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is in the config; nothing else of the request is quoted
		}
		return fmt.Errorf("logout: %w", err)
	}
	defer resp.Body.Close()
	// Drained (bounded) so that the connection can be reused or closed cleanly.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("logout: HTTP %d", resp.StatusCode)
	}
	return nil
}
