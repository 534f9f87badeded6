package vb365

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Size caps for answers. A session is about half a KiB; a full page of 10,000 sessions is a
// few MiB. Anything far larger is a broken or hostile server, not data.
const (
	maxTokenBody   = 64 << 10
	maxSessionBody = 1 << 20
	maxPageBody    = 64 << 20
	maxErrorBody   = 64 << 10
	// maxPageEntry is a generous bound for one session in a page (real ones are ~0.5 KiB).
	maxPageEntry = 8 << 10
)

// Waiting for Retry-After: a 429 without the header still pauses briefly, and no server can
// silence the exporter for longer than maxRetryAfter (a hostile or broken header).
const (
	defaultRateLimitPause = 5 * time.Second
	maxRetryAfter         = 5 * time.Minute
)

// DefaultRequestTimeout bounds each API call when Options set none; the config file's
// default for timeout.
const DefaultRequestTimeout = 10 * time.Second

// Options configures a Client.
type Options struct {
	// BaseURL is scheme://host[:port] of the REST API.
	BaseURL string
	// APIVersion is v6, v7 or v8.
	APIVersion string
	Username   string
	// Password returns the password; a function so that the secret stays in one place.
	Password func() string
	// HTTPClient carries TLS settings and connection reuse; it must have no Timeout of its own
	// longer than RequestTimeout matters.
	HTTPClient *http.Client
	// RequestTimeout bounds each API call (config: timeout); 0 is DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxConcurrent bounds the calls in flight (config: max_concurrent_requests).
	MaxConcurrent int
	// Server names the server in self-metrics.
	Server  string
	Metrics *Metrics
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// Client talks to one VB365 server. It is safe for concurrent use and owns the token.
type Client struct {
	base       *url.URL
	version    string
	username   string
	password   func() string
	http       *http.Client
	timeout    time.Duration
	sem        chan struct{}
	server     string
	metrics    *Metrics
	now        func() time.Time
	tokenGroup singleflight.Group

	mu    sync.Mutex
	token *token
	// secretForms are the forms of the secrets (password, tokens) last masked.
	secretForms *forms
	// failure is the token failure being backed off from (*AuthError or *TokenError),
	// until failureUntil; backoff is the current pause.
	failure      error
	failureUntil time.Time
	backoff      time.Duration
	// retryLater is set while the server has asked (429, 503 with Retry-After) not to be
	// called; every call fails fast with it until it passes.
	retryLater *RetryLaterError
	// versions is what probeVersions found, once; nil before.
	versions *[]string
}

type token struct {
	access  string
	refresh string
	// renewAt is when the token is renewed, some time before the server's expiry.
	renewAt time.Time
}

// New validates the options and returns a client. It makes no request.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("url %q: want scheme://host[:port]", o.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	switch o.APIVersion {
	case "":
		o.APIVersion = "v6"
	case "v6", "v7", "v8":
	default:
		return nil, fmt.Errorf("api_version %q: want v6, v7 or v8", o.APIVersion)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	// A redirect would carry the form (password included) or the bearer token to wherever
	// the server points, over any scheme: the client never follows one, whatever client
	// the caller passed. A copy, so that the caller's client is left as it was.
	hc := *o.HTTPClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if o.MaxConcurrent < 1 {
		o.MaxConcurrent = 1
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Password == nil {
		o.Password = func() string { return "" }
	}
	return &Client{
		base: u, version: o.APIVersion, username: o.Username, password: o.Password,
		http: &hc, timeout: o.RequestTimeout, sem: make(chan struct{}, o.MaxConcurrent),
		server: o.Server, metrics: o.Metrics, now: o.Now,
	}, nil
}

// GetSession reads one session: GET /vN/DataRetrievalSessions/{id}.
func (c *Client) GetSession(ctx context.Context, id ID) (*Session, error) {
	body, err := c.get(ctx, "session", "/DataRetrievalSessions/"+url.PathEscape(string(id)), nil, maxSessionBody)
	if err != nil {
		return nil, err
	}
	s, err := decodeSession(body, c.masks())
	if err != nil {
		return nil, &DecodeError{Endpoint: "session", Err: c.scrubError(err)}
	}
	if s.ID != id {
		// Never file one session's data under another's id.
		return nil, &DecodeError{Endpoint: "session", Err: &WrongSessionError{Asked: id, Got: s.ID}}
	}
	return &s, nil
}

// ListOptions narrows the session list.
type ListOptions struct {
	RetrievalID ID
	Offset      int
	Limit       int
}

// ListSessions reads one page: GET /vN/DataRetrievalSessions?dataRetrievalId=&offset=&limit=.
func (c *Client) ListSessions(ctx context.Context, o ListOptions) (*Page, error) {
	q := url.Values{}
	if o.RetrievalID != "" {
		q.Set("dataRetrievalId", string(o.RetrievalID))
	}
	q.Set("offset", strconv.Itoa(o.Offset))
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	var p *Page
	// The masks are made once the request has its token, so that they hold it.
	err := c.getStream(ctx, "list", "/DataRetrievalSessions", q, pageBodyCap(o.Limit), func(r io.Reader) (err error) {
		if p, err = decodePageFrom(ctx, r, o.Limit, c.masks()); err != nil {
			return listError("list", c.scrubError(err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, e := range p.Invalid {
		p.Invalid[i] = c.scrubError(e)
	}
	return p, nil
}

// pageBodyCap bounds a page by what limit sessions can take, so that the cheap one-entry
// health check of a scrape cannot be made to buffer the full 64 MiB.
func pageBodyCap(limit int) int64 {
	if limit <= 0 {
		limit = 30 // the API's default page size
	}
	return min(maxPageBody, int64(limit)*maxPageEntry+maxErrorBody)
}

// get performs an authenticated GET, renewing the token and retrying once on a 401, and
// returns the answer's body.
func (c *Client) get(ctx context.Context, endpoint, path string, q url.Values, limit int64) ([]byte, error) {
	var body []byte
	err := c.getStream(ctx, endpoint, path, q, limit, func(r io.Reader) (err error) {
		body, err = io.ReadAll(r)
		return err
	})
	return body, err
}

// getStream is get for a caller that decodes the body as it arrives: decode reads at most
// limit bytes of a 2xx answer (more is ErrBodyTooLarge). An error of decode's own is
// returned as it is; one of reading the body (cut off, too large, deadline) as get's.
func (c *Client) getStream(ctx context.Context, endpoint, path string, q url.Values, limit int64, decode func(io.Reader) error) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		u := c.endpointURL(path)
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		err = c.doStream(ctx, endpoint, req, limit, decode, nil)
		var apiErr *APIError
		if attempt == 0 && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized {
			// The server forgot or revoked the token (restart, logout, expiry drift).
			c.dropToken(tok)
			continue
		}
		return err
	}
}

func (c *Client) endpointURL(path string) string {
	return c.base.String() + "/" + c.version + path
}

// do sends one request and returns the body of its answer (see doStream).
func (c *Client) do(ctx context.Context, endpoint string, req *http.Request, limit int64) ([]byte, error) {
	return c.doType(ctx, endpoint, req, limit, nil)
}

// doType is do that also sets *ctype to a 2xx answer's Content-Type, for a token answer
// that is not one (a login page) to say what it is.
func (c *Client) doType(ctx context.Context, endpoint string, req *http.Request, limit int64, ctype *string) ([]byte, error) {
	var body []byte
	err := c.doStream(ctx, endpoint, req, limit, func(r io.Reader) (err error) {
		body, err = io.ReadAll(r)
		return err
	}, ctype)
	if err != nil {
		return nil, err
	}
	return body, nil
}

// doStream sends one request under the concurrency limit and the per-request timeout,
// turns non-2xx answers into *APIError, and hands a 2xx answer's body, through the size
// cap, to decode (and its Content-Type to *ctype when set). Every body is read within the
// process-wide budget (bodies).
func (c *Client) doStream(ctx context.Context, endpoint string, req *http.Request, limit int64, decode func(io.Reader) error, ctype *string) error {
	if err := c.waitingForRetryAfter(endpoint); err != nil {
		return err
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return deadlineError(ctx)
	}
	defer func() { <-c.sem }()

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req = req.WithContext(ctx)
	start := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observe(endpoint, "error", start)
		recordCall(ctx, req, 0, c.now().Sub(start), err)
		// net/http quotes a malformed answer's status line or headers: server text.
		return c.scrubError(c.transportError(parent, ctx, endpoint, err))
	}
	defer resp.Body.Close()
	ok := resp.StatusCode/100 == 2
	if !ok {
		limit = maxErrorBody
	}
	br := &bodyReader{r: resp.Body, limit: limit}
	weight := limit
	if cl := resp.ContentLength; cl >= 0 && cl < limit {
		weight = cl // the reader stops at it: net/http ends a body at its Content-Length
	}
	if err := bodies.acquire(ctx, weight); err != nil {
		c.observe(endpoint, "error", start)
		recordCall(ctx, req, 0, c.now().Sub(start), err)
		return c.transportError(parent, ctx, endpoint, err)
	}
	var body []byte
	if ok {
		if ctype != nil {
			*ctype = resp.Header.Get("Content-Type")
		}
		err = decode(br)
	} else {
		body, err = io.ReadAll(br)
	}
	bodies.release(weight)
	if !ok && errors.Is(br.err, ErrBodyTooLarge) {
		br.err, err = nil, nil // an error's text is only shown cut anyway
	}
	if br.err != nil {
		err = br.err // the body's failure explains the decoder's
	}
	c.observe(endpoint, strconv.Itoa(resp.StatusCode), start)
	recordCall(ctx, req, resp.StatusCode, c.now().Sub(start), err)
	switch {
	case br.err == nil:
	case errors.Is(br.err, ErrBodyTooLarge):
		return fmt.Errorf("%s: %w (%d bytes)", endpoint, ErrBodyTooLarge, limit)
	case errors.Is(br.err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %w after %d bytes", endpoint, ErrTruncated, br.n)
	default:
		return c.scrubError(c.transportError(parent, ctx, endpoint, br.err))
	}
	if resp.StatusCode/100 == 3 {
		return &RedirectError{Endpoint: endpoint, StatusCode: resp.StatusCode,
			Host: locationHost(req.URL, resp.Header.Get("Location"), c.Scrub)}
	}
	if !ok {
		sent := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
		apiErr := parseAPIError(endpoint, resp, body, func(s string) string { return c.scrub(s, sent) })
		c.noteRetryAfter(apiErr)
		return apiErr
	}
	return err
}

// bodyReader reads an answer's body up to limit bytes; a longer body fails with
// ErrBodyTooLarge. err is the first failure of the body itself, so that a decoder's error
// caused by it (a cut-off answer, the deadline) is reported as that.
type bodyReader struct {
	r        io.Reader
	limit, n int64
	err      error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	// One byte past the limit tells a body of exactly limit bytes from a longer one.
	if left := b.limit + 1 - b.n; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		n, err = n-1, ErrBodyTooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = err
	}
	return n, err
}

func (c *Client) observe(endpoint, code string, start time.Time) {
	if c.metrics == nil {
		return
	}
	c.metrics.requests.WithLabelValues(c.server, endpoint, code).Inc()
	c.metrics.duration.WithLabelValues(c.server, endpoint).Observe(c.now().Sub(start).Seconds())
}

var errDeadline = errors.New("scrape deadline reached")

// ErrRequestTimeout is a call that outlived the configured per-request timeout.
var ErrRequestTimeout = errors.New("request timeout")

func deadlineError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errDeadline
	}
	return ctx.Err()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// transportError drops the URL from net/http's error (it is in the config anyway) and names
// the fix for TLS failures, the most common first-run problem with self-signed certificates.
func (c *Client) transportError(parent, ctx context.Context, endpoint string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if opErr, ok := err.(*net.OpError); ok && opErr.Source != nil { //nolint:errorlint // only an unwrapped OpError can be rebuilt without losing the wrapping
		// The local port changes with every connection; without it the message is the same
		// for every occurrence of one cause, so that it is logged once.
		cp := *opErr
		cp.Source = nil
		err = &cp
	}
	var unknownAuth x509.UnknownAuthorityError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &hostErr):
		return fmt.Errorf("TLS: the server's certificate is not valid for %s (set tls_config.server_name to a name it holds, or fix the url): %w", c.base.Hostname(), err)
	case errors.As(err, &unknownAuth) || errors.As(err, &certErr):
		return fmt.Errorf("TLS: the server's certificate is not trusted (set tls_config.ca_file to the CA that signed it, or tls_config.insecure_skip_verify: true): %w", err)
	case parent.Err() != nil:
		return deadlineError(parent)
	case ctx.Err() != nil && isTimeout(err):
		return fmt.Errorf("%s: no answer within the request timeout of %s: %w", endpoint, c.timeout, ErrRequestTimeout)
	case errors.Is(err, io.EOF):
		// A bare "EOF" in a log line tells nobody anything.
		return fmt.Errorf("%s: connection closed by the server without an answer: %w", endpoint, err)
	}
	return fmt.Errorf("%s: connection failed: %w", endpoint, err)
}

// noteRetryAfter starts a pause when the server asks for one: always on 429, on 503 only
// with a Retry-After header (otherwise it is an ordinary server error).
func (c *Client) noteRetryAfter(e *APIError) {
	wait := e.RetryAfter
	switch {
	case e.StatusCode == http.StatusTooManyRequests && wait <= 0:
		wait = defaultRateLimitPause
	case e.StatusCode == http.StatusServiceUnavailable && wait > 0:
	case e.StatusCode != http.StatusTooManyRequests:
		return
	}
	wait = min(wait, maxRetryAfter)
	c.mu.Lock()
	defer c.mu.Unlock()
	until := c.now().Add(wait)
	if c.retryLater == nil || until.After(c.retryLater.Until) {
		c.retryLater = &RetryLaterError{StatusCode: e.StatusCode, Until: until}
	}
}

func (c *Client) waitingForRetryAfter(endpoint string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.retryLater == nil {
		return nil
	}
	if !c.now().Before(c.retryLater.Until) {
		c.retryLater = nil
		return nil
	}
	e := *c.retryLater
	e.Endpoint = endpoint
	return &e
}
