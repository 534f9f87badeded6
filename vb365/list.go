package vb365

import (
	"context"
	"fmt"
)

// MaxPageLimit is the largest page the API serves (PageOfRESTDataRetrievalSession.limit).
const MaxPageLimit = 10000

// ListAllSessions pages through GET /vN/DataRetrievalSessions until the server has no more,
// calling fn for each page as it arrives (so callers can stop early by returning an error).
// limit is the page size (MaxPageLimit when 0); maxPages guards against a server whose
// paging never ends (0 means 1,000 pages).
func (c *Client) ListAllSessions(ctx context.Context, retrievalID string, limit, maxPages int, fn func(*Page) error) error {
	if limit <= 0 || limit > MaxPageLimit {
		limit = MaxPageLimit
	}
	if maxPages <= 0 {
		maxPages = 1000
	}
	offset := 0
	for range maxPages {
		p, err := c.ListSessions(ctx, ListOptions{RetrievalID: retrievalID, Offset: offset, Limit: limit})
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		n := len(p.Sessions) + len(p.Invalid)
		offset += n
		// v6/v7 say how many there are; v8 does not, so a short page is the end.
		if n == 0 || n < limit || (p.TotalCount != nil && offset >= *p.TotalCount) {
			return nil
		}
	}
	return fmt.Errorf("list: more than %d pages of %d sessions; stopped", maxPages, limit)
}
