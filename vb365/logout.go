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
	if c.version == "v6" {
		return nil
	}
	// A token request may still be in flight, its scrape having given up waiting (it runs
	// on so that the next scrape finds the token): let it store its token first, or that
	// token would outlive the logout. Joining its singleflight call waits for it, at most as
	// long as its two requests may take; when there is none, the call only hands out the
	// current token to anyone joining meanwhile.
	wait := c.tokenGroup.DoChan("token", func() (interface{}, error) { return c.currentAccess() })
	waitCtx, stopWaiting := context.WithTimeout(ctx, 2*c.timeout+time.Second) // a refresh, then a password grant
	select {
	case <-wait:
	case <-waitCtx.Done():
	}
	stopWaiting()
	ctx, cancel := context.WithTimeout(ctx, min(logoutTimeout, c.timeout))
	defer cancel()
	c.mu.Lock()
	tok := c.token
	c.token = nil
	c.mu.Unlock()
	if tok == nil || tok.access == "" {
		return nil
	}
	if err := c.waitingForRetryAfter("logout"); err != nil {
		return err
	}
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

var errNoToken = errors.New("no token")

// currentAccess is the stored access token, in the shape of a token request's result.
func (c *Client) currentAccess() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == nil || c.token.access == "" {
		return "", errNoToken
	}
	return c.token.access, nil
}
