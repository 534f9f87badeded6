package vb365

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Renew this long before the server's expiry, so that a token never dies in flight.
const renewBefore = 2 * time.Minute

// Backoff after refused credentials: a wrong password must not hammer the server (and
// lock the account) once per scrape.
const (
	minAuthBackoff = 30 * time.Second
	maxAuthBackoff = 10 * time.Minute
)

// accessToken returns a valid access token, fetching or renewing one when needed. Concurrent
// callers share one token request.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	tok := c.token
	failure := c.authFailure
	c.mu.Unlock()
	now := c.now()
	if tok != nil && now.Before(tok.expires.Add(-renewBefore)) {
		return tok.access, nil
	}
	if failure != nil && now.Before(failure.Until) {
		return "", failure
	}
	ch := c.tokenGroup.DoChan("token", func() (interface{}, error) {
		// The token fetch outlives a caller whose scrape ends, so that the next scrape finds
		// the token; the per-request timeout still bounds it.
		return c.renew(context.WithoutCancel(ctx), tok)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			var authErr *AuthError
			if errors.As(res.Err, &authErr) {
				return "", res.Err
			}
			return "", &TokenError{Err: res.Err}
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", deadlineError(ctx)
	}
}

// renew tries the refresh token first (cheaper for the server, keeps one logon session) and
// falls back to the password grant.
func (c *Client) renew(ctx context.Context, old *token) (string, error) {
	if old != nil && old.refresh != "" {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.refresh}}
		if tok, err := c.requestToken(ctx, "refresh_token", form); err == nil {
			return c.storeToken(tok), nil
		}
	}
	form := url.Values{
		"grant_type": {"password"},
		"username":   {c.username},
		"password":   {c.password()},
	}
	tok, err := c.requestToken(ctx, "password", form)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusBadRequest || apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
			return "", c.recordAuthFailure(err)
		}
		return "", err
	}
	return c.storeToken(tok), nil
}

func (c *Client) requestToken(ctx context.Context, grant string, form url.Values) (*token, error) {
	if c.version != "v6" {
		// v7+ protect browser sessions with an antiforgery cookie; a headless client opts out.
		form.Set("disable_antiforgery_token", "true")
	}
	req, err := http.NewRequest(http.MethodPost, c.endpointURL("/token"), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, err := c.do(ctx, "token", req, maxTokenBody)
	result := "success"
	if err != nil {
		result = "failure"
	}
	if c.metrics != nil {
		c.metrics.tokens.WithLabelValues(c.server, grant, result).Inc()
	}
	if err != nil {
		return nil, err
	}
	var w struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		// The body holds a token: never quote it.
		return nil, &DecodeError{Endpoint: "token", Err: errors.New("token answer is not valid JSON")}
	}
	if w.AccessToken == "" {
		return nil, &DecodeError{Endpoint: "token", Err: errors.New("token answer has no access_token")}
	}
	if w.TokenType != "" && !strings.EqualFold(w.TokenType, "bearer") {
		return nil, &DecodeError{Endpoint: "token", Err: fmt.Errorf("token_type %q is not bearer", truncate(w.TokenType, 20))}
	}
	if w.ExpiresIn <= 0 {
		w.ExpiresIn = 3600 // Veeam's documented default
	}
	return &token{access: w.AccessToken, refresh: w.RefreshToken, expires: c.now().Add(time.Duration(w.ExpiresIn) * time.Second)}, nil
}

func (c *Client) storeToken(t *token) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = t
	c.authFailure = nil
	c.authBackoff = 0
	return t.access
}

func (c *Client) recordAuthFailure(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = nil
	if c.authBackoff == 0 {
		c.authBackoff = minAuthBackoff
	} else {
		c.authBackoff = min(2*c.authBackoff, maxAuthBackoff)
	}
	c.authFailure = &AuthError{Err: err, Until: c.now().Add(c.authBackoff)}
	return c.authFailure
}

// dropToken forgets a token the server refused, unless another caller already replaced it.
func (c *Client) dropToken(access string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != nil && c.token.access == access {
		// Keep the refresh token: the server may still honour it.
		c.token = &token{refresh: c.token.refresh}
	}
}
