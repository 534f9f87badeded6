package vb365

import (
	"bytes"
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

// The server's expires_in is clamped to this range: a lifetime of a second (or one that
// overflows time.Duration) must not mean a token request before every call. A token is
// used for at least minTokenUse, so that the client asks for one at most once a minute.
const (
	minTokenLifetime = time.Minute
	maxTokenLifetime = 24 * time.Hour
	minTokenUse      = time.Minute
	// defaultTokenLifetime is Veeam's documented expires_in, for an answer without one.
	defaultTokenLifetime = time.Hour
)

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
	failure, until := c.failure, c.failureUntil
	c.mu.Unlock()
	now := c.now()
	if tok != nil && now.Before(tok.renewAt) {
		return tok.access, nil
	}
	if failure != nil && now.Before(until) {
		return "", failure
	}
	ch := c.tokenGroup.DoChan("token", func() (interface{}, error) {
		// A flight that ended between the look above and this one has decided already: a
		// caller arriving just after it must not send the password again.
		c.mu.Lock()
		cur, failure, until := c.token, c.failure, c.failureUntil
		c.mu.Unlock()
		if now := c.now(); cur != nil && cur != tok && now.Before(cur.renewAt) {
			return cur.access, nil
		} else if failure != nil && now.Before(until) {
			return "", failure
		}
		// The token fetch outlives a caller whose scrape ends, so that the next scrape finds
		// the token; the per-request timeout still bounds it.
		return c.renew(context.WithoutCancel(ctx), tok)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			var authErr *AuthError
			var tokErr *TokenError
			if errors.As(res.Err, &authErr) || errors.As(res.Err, &tokErr) {
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
		var unusable *unusableTokenError
		switch {
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
			return "", &VersionError{Version: c.version, Answers: c.probeVersions(ctx), Err: err}
		case errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusBadRequest || apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden):
			return "", c.backOff(err, true)
		case errors.As(err, &unusable), errors.Is(err, ErrBodyTooLarge):
			// A server that answers tokens the client cannot use will answer the same
			// at once: asking before every call would only load it.
			return "", c.backOff(err, false)
		}
		return "", err
	}
	return c.storeToken(tok), nil
}

// probeVersions lists the other API versions whose token endpoint answers at the configured
// URL, asked once per client after the configured version's answered 404. The probe is a
// token request without credentials, so nothing secret is sent: anything but a 404 (a 400
// for the missing grant) means the version is there.
func (c *Client) probeVersions(ctx context.Context) []string {
	c.mu.Lock()
	done := c.versions
	c.mu.Unlock()
	if done != nil {
		return *done
	}
	found := []string{}
	for _, v := range []string{"v6", "v7", "v8"} {
		if v == c.version {
			continue
		}
		req, err := http.NewRequest(http.MethodPost, c.base.String()+"/"+v+"/token", strings.NewReader("grant_type=password"))
		if err != nil {
			continue
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err = c.do(ctx, "token", req, maxTokenBody)
		var apiErr *APIError
		if err == nil || errors.As(err, &apiErr) && apiErr.StatusCode != http.StatusNotFound {
			found = append(found, v)
		}
	}
	c.mu.Lock()
	c.versions = &found
	c.mu.Unlock()
	return found
}

// unusableTokenError is a token answer that is valid JSON but cannot be used: a field
// missing or of the wrong type. Unlike a garbled answer, asking again will not help soon.
type unusableTokenError struct{ field, problem string }

func (e *unusableTokenError) Error() string { return e.field + ": " + e.problem }

// notToken says what came back instead of a token when it is not JSON (a proxy's or SSO
// portal's login page): the Content-Type and the first bytes, scrubbed and cut. What looks
// like JSON is never quoted: it may hold a token the client does not know to mask.
func (c *Client) notToken(err error, ctype string, body []byte) error {
	m := c.masks()
	if t := bytes.TrimSpace(body); len(t) == 0 || bytes.ContainsRune([]byte(`{["`), rune(t[0])) {
		return fmt.Errorf("%w (Content-Type %q, %d bytes)", err, m.text(ctype, 60), len(body))
	}
	return fmt.Errorf("%w: Content-Type %q, starting %q: not the API's token answer (a login page or proxy in front of it?)",
		err, m.text(ctype, 60), m.text(string(body[:min(len(body), 1024)]), 80))
}

// decodeToken reads a token answer. Its errors name the field and never quote a value: the
// body holds tokens.
func (c *Client) decodeToken(body []byte) (*token, error) {
	var w map[string]json.RawMessage
	if err := json.Unmarshal(body, &w); err != nil {
		if json.Valid(body) {
			return nil, &unusableTokenError{"token answer", "want a JSON object, got " + jsonKind(body)}
		}
		return nil, &unusableTokenError{"token answer", "not valid JSON"}
	}
	str := func(field string, required bool) (string, error) {
		raw, ok := w[field]
		if !ok || jsonKind(raw) == "null" {
			if required {
				return "", &unusableTokenError{field, "missing"}
			}
			return "", nil
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return "", &unusableTokenError{field, "want a string, got " + jsonKind(raw)}
		}
		if required && v == "" {
			return "", &unusableTokenError{field, "empty"}
		}
		return v, nil
	}
	access, err := str("access_token", true)
	if err != nil {
		return nil, err
	}
	refresh, err := str("refresh_token", false)
	if err != nil {
		return nil, err
	}
	typ, err := str("token_type", false)
	if err != nil {
		return nil, err
	}
	if typ != "" && !strings.EqualFold(typ, "bearer") {
		return nil, &unusableTokenError{"token_type", "want bearer"}
	}
	lifetime := defaultTokenLifetime
	if raw, ok := w["expires_in"]; ok && jsonKind(raw) != "null" {
		var secs float64
		if jsonKind(raw) != "a number" || json.Unmarshal(raw, &secs) != nil {
			return nil, &unusableTokenError{"expires_in", "want a number of seconds, got " + jsonKind(raw)}
		}
		// Clamped as a float: 1e12 seconds does not fit in a time.Duration.
		secs = min(max(secs, minTokenLifetime.Seconds()), maxTokenLifetime.Seconds())
		lifetime = time.Duration(secs * float64(time.Second))
	}
	use := max(lifetime-min(renewBefore, lifetime/2), minTokenUse)
	return &token{access: access, refresh: refresh, renewAt: c.now().Add(use)}, nil
}

// jsonKind names the type of a JSON value for an error message.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
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
	var ctype string
	body, err := c.doType(ctx, "token", req, maxTokenBody, &ctype)
	var tok *token
	if err == nil {
		if tok, err = c.decodeToken(body); err != nil {
			err = &DecodeError{Endpoint: "token", Err: c.notToken(err, ctype, body)}
		}
	}
	// An answer the client cannot use is a failure, whatever its status code.
	result := "success"
	if err != nil {
		result = "failure"
	}
	if c.metrics != nil {
		c.metrics.tokens.WithLabelValues(c.server, grant, result).Inc()
	}
	return tok, err
}

func (c *Client) storeToken(t *token) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = t
	c.failure = nil
	c.backoff = 0
	return t.access
}

// backOff stops token requests for a while after a failure that asking again at once would
// repeat: refused credentials (auth) or an unusable token answer.
func (c *Client) backOff(err error, auth bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = nil
	if c.backoff == 0 {
		c.backoff = minAuthBackoff
	} else {
		c.backoff = min(2*c.backoff, maxAuthBackoff)
	}
	c.failureUntil = c.now().Add(c.backoff)
	if auth {
		c.failure = &AuthError{Err: err, Until: c.failureUntil}
	} else {
		c.failure = &TokenError{Err: err, Until: c.failureUntil}
	}
	return c.failure
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
