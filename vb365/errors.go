package vb365

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIError is an answer of the API with a status code other than 2xx. Message and
// ErrorCode come from Veeam's RESTExceptionInfo body ({message, errorCode, stackTrace}); the
// stack trace is dropped, it only makes log lines unreadable.
type APIError struct {
	Endpoint   string // "token", "session", "list"
	StatusCode int
	Message    string
	ErrorCode  string
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d %s", e.Endpoint, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.ErrorCode != "" {
		msg += " (" + e.ErrorCode + ")"
	}
	return msg
}

// Reason is a short, low-cardinality description for pages and logs: "not found", "HTTP 500".
func (e *APIError) Reason() string {
	if e.StatusCode == http.StatusNotFound {
		return "not found"
	}
	return "HTTP " + strconv.Itoa(e.StatusCode)
}

// AuthError means the server refused the credentials; retrying soon does not help.
type AuthError struct {
	Err error
	// Until is when the client will try the credentials again.
	Until time.Time
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("authentication failed: %v (check username and password; next attempt after %s)",
		e.Err, e.Until.UTC().Format(time.RFC3339))
}

func (e *AuthError) Unwrap() error { return e.Err }

// VersionError is a 404 from the token endpoint of the configured api_version: most often
// a server of another version. Answers are the versions whose token endpoint answers at the
// same URL (probeVersions).
type VersionError struct {
	Version string
	Answers []string
	Err     error
}

func (e *VersionError) Error() string {
	hint := "no other API version (v6, v7, v8) answers at this url either (check url)"
	if len(e.Answers) > 0 {
		hint = "the server answers " + strings.Join(e.Answers, " and ") + " at this url (set api_version: " + e.Answers[len(e.Answers)-1] + ")"
	}
	return fmt.Sprintf("%v; api_version %s may be wrong: %s", e.Err, e.Version, hint)
}
func (e *VersionError) Unwrap() error { return e.Err }

// DecodeError means the server answered 2xx with a body that is not what the API documents.
type DecodeError struct {
	Endpoint string
	Err      error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s: malformed answer: %v", e.Endpoint, e.Err)
}
func (e *DecodeError) Unwrap() error { return e.Err }

// TokenError is a failure to get a token for another reason than refused credentials (the
// token endpoint down, a malformed token answer). Its text is the cause's.
type TokenError struct {
	Err error
	// Until is set when the client backs off (an unusable token answer): no token request
	// is sent before it.
	Until time.Time
}

func (e *TokenError) Error() string {
	if e.Until.IsZero() {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v (next attempt after %s)", e.Err, e.Until.UTC().Format(time.RFC3339))
}
func (e *TokenError) Unwrap() error { return e.Err }

// IsClientWide reports whether err stops every call of the client the same way, whatever
// was asked: refused credentials, no token, or a Retry-After pause. Callers that log per
// request kind can leave such errors to one server-level line.
func IsClientWide(err error) bool {
	return is[*AuthError](err) || is[*TokenError](err) || is[*RetryLaterError](err)
}

// ErrBodyTooLarge is returned when an answer exceeds the client's size cap.
var ErrBodyTooLarge = errors.New("answer larger than the size cap")

// ErrTruncated is an answer that ended before the length the server announced.
var ErrTruncated = errors.New("answer cut off")

// RetryLaterError is a call the client did not send because the server asked it to wait:
// HTTP 429, or 503 with Retry-After. Honouring the pause keeps a struggling or rate-limiting
// server from being hammered by every scrape.
type RetryLaterError struct {
	Endpoint   string
	StatusCode int
	// Until is when calls are sent again.
	Until time.Time
}

func (e *RetryLaterError) Error() string {
	return fmt.Sprintf("%s: not sent: the server answered HTTP %d and asked to wait (Retry-After) until %s",
		e.Endpoint, e.StatusCode, e.Until.UTC().Format(time.RFC3339))
}

// WrongSessionError is an answer about another session than the one asked for. It comes
// wrapped in a *DecodeError: the server answered, but not usably.
type WrongSessionError struct {
	Asked, Got ID
}

func (e *WrongSessionError) Error() string {
	return fmt.Sprintf("answer for session %q, asked for %q", shorten(string(e.Got), maxQuoted), shorten(string(e.Asked), maxQuoted))
}

// RedirectError is a 3xx answer. The client never follows one: a redirect would send the
// password or the token to wherever the server points.
type RedirectError struct {
	Endpoint   string
	StatusCode int
	// Host is the host[:port] of the Location header (never its path or query, which may
	// carry anything), or a note when there is none.
	Host string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s: redirect to %s not followed (the exporter only talks to the configured url)",
		e.Endpoint, e.StatusCode, http.StatusText(e.StatusCode), e.Host)
}

// locationHost names where a redirect points, resolved against the request's URL: scheme
// and host, scrubbed, then cut.
func locationHost(req *url.URL, loc string, scrub func(string) string) string {
	if loc == "" {
		return "nowhere (no Location header)"
	}
	u, err := req.Parse(loc)
	if err != nil || u.Host == "" {
		return "an unparsable Location"
	}
	return strconv.Quote(shorten(scrub(u.Scheme+"://"+u.Host), 100))
}

// parseAPIError reads Veeam's error body. The message and the code are the server's text,
// logged and shown as is: scrub masks our own secrets in them (a server that echoes the
// request, a debug build) before they are cut, so that a cut cannot leave a secret's start.
func parseAPIError(endpoint string, resp *http.Response, body []byte, scrub func(string) string) *APIError {
	e := &APIError{Endpoint: endpoint, StatusCode: resp.StatusCode}
	var info struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(body, &info) == nil {
		e.Message = shorten(scrub(info.Message), 300)
		e.ErrorCode = shorten(scrub(info.ErrorCode), 100)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		} else if at, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = time.Until(at)
		}
	}
	return e
}

// Reason gives a short, stable description of why a call failed, for the landing page and
// the once-per-cause log lines. It never contains a secret: only codes and error classes.
func Reason(err error) string {
	var apiErr *APIError
	switch {
	case err == nil:
		return ""
	case is[*AuthError](err):
		return "authentication failed"
	case is[*RetryLaterError](err):
		return "waiting for Retry-After"
	case is[*VersionError](err):
		return "api_version not served"
	case is[*RedirectError](err):
		return "redirect not followed"
	case errors.Is(err, ErrTruncated):
		return "answer cut off"
	case errors.As(err, &apiErr):
		return apiErr.Reason()
	case errors.Is(err, ErrBodyTooLarge):
		return "answer too large"
	case is[*WrongSessionError](err):
		return "answer for another session"
	case is[*DecodeError](err):
		return "malformed answer"
	case is[x509.HostnameError](err):
		return "TLS: certificate not valid for this host"
	case is[x509.UnknownAuthorityError](err), is[*tls.CertificateVerificationError](err):
		return "TLS: certificate not trusted"
	case errors.Is(err, errDeadline), errors.Is(err, ErrRequestTimeout), isTimeout(err):
		return "timeout"
	}
	return "connection error"
}

// Detail is err's text to show after Reason(err), without the reason's words when the text
// begins with them: "authentication failed — token: HTTP 400 …", not "authentication
// failed — authentication failed: token: HTTP 400 …".
func Detail(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, Reason(err)+": "); ok {
		return rest
	}
	return msg
}

// is reports whether err has an error of type T in its chain.
func is[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
