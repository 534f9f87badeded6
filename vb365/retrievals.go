package vb365

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"
)

// Retrieval is a data retrieval job (RESTDataRetrievalComposed), reduced to what the
// exporter shows next to its sessions.
type Retrieval struct {
	ID   ID
	Name string
	// Type is Exchange, OneDrive, SharePoint or Teams.
	Type string
	// DataState is Retrieving, Retrieved, ChangingAvailabilityPeriod or Removing.
	DataState string
	// LastStatus is the status of the retrieval's latest session; empty when not sent.
	LastStatus string
	// ExpirationTime is when the retrieved data stops being available; zero when it has none.
	ExpirationTime time.Time
}

type wireRetrieval struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	DataState      string   `json:"dataState"`
	LastStatus     string   `json:"lastStatus"`
	ExpirationTime *APITime `json:"expirationTime"`
}

func (w *wireRetrieval) toRetrieval(m masks) (Retrieval, error) {
	if w.ID == "" {
		return Retrieval{}, fmt.Errorf("data retrieval has no id")
	}
	r := Retrieval{ID: answerID(w.ID), Name: w.Name, Type: w.Type, DataState: w.DataState, LastStatus: w.LastStatus}
	m.retrieval(&r)
	if w.ExpirationTime != nil {
		r.ExpirationTime = w.ExpirationTime.Time
	}
	return r, nil
}

// RetrievalPage is one answer of GET /vN/DataRetrievals. v6 and v7 send a bare array (one
// page holding everything); v8 sends PageOfRESTDataRetrievalComposed.
type RetrievalPage struct {
	Retrievals []Retrieval
	// Invalid holds entries that could not be decoded; they do not hide the others.
	Invalid []error
	// Paged is true for a v8 page, whose size tells whether more may follow.
	Paged bool
	// Count is the number of entries on the page, decodable or not, kept or not.
	Count int
	// Skipped counts the entries past the keep bound: counted, not decoded.
	Skipped int
	// Limit is the page size the server says it used (v8); 0 when not sent.
	Limit int
	// Next is the page's _links.next.href as sent; it is never requested.
	Next string
}

// DecodeRetrievalPage parses either shape of GET /vN/DataRetrievals, whatever the version:
// a server that answers with the other shape is still understood.
func DecodeRetrievalPage(body []byte) (*RetrievalPage, error) {
	return decodeRetrievalPage(context.Background(), body, math.MaxInt, masks{})
}

// decodeRetrievalPage decodes entries while fewer than keep were kept (and fewer than keep
// were broken, so that a flood of broken entries costs no more than a flood of good ones);
// the rest are counted in Skipped.
func decodeRetrievalPage(ctx context.Context, body []byte, keep int, m masks) (*RetrievalPage, error) {
	p := &RetrievalPage{}
	info, err := streamList(ctx, body, listSink[wireRetrieval]{
		want: func() bool { return len(p.Retrievals) < keep && len(p.Invalid) < keep },
		each: func(w *wireRetrieval, err error) {
			if err == nil {
				var r Retrieval
				if r, err = w.toRetrieval(m); err == nil {
					p.Retrievals = append(p.Retrievals, r)
					return
				}
			}
			p.Invalid = append(p.Invalid, fmt.Errorf("retrievals[%d]: %w", len(p.Retrievals)+len(p.Invalid), err))
		},
	})
	if errors.Is(err, errNoResults) {
		err = errors.New("neither an array nor a page with results")
	}
	if err != nil {
		if errors.Is(err, errDeadline) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, fmt.Errorf("decoding data retrievals: %w", err)
	}
	p.Paged, p.Count, p.Skipped, p.Limit, p.Next = info.paged, info.count, info.skipped, info.limit, info.next
	return p, nil
}

// ListRetrievals reads the data retrievals: GET /vN/DataRetrievals, following v8's pages.
// At most keep (which must be positive: the list is always bounded) are decoded and
// returned; the rest are counted in dropped, not decoded. The whole list is still read, so
// that dropped is exact, but past keep it only costs its bytes (each answer is under the
// size cap) and a scan. Entries that cannot be decoded are skipped and counted in invalid.
func (c *Client) ListRetrievals(ctx context.Context, keep int) (list []Retrieval, invalid, dropped int, err error) {
	if keep <= 0 {
		return nil, 0, 0, errors.New("retrievals: keep must be positive")
	}
	const limit = MaxPageLimit
	offset := 0
	seen := map[ID]bool{}
	for range 1000 {
		var q url.Values
		if c.version == "v8" {
			q = url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}}
		}
		body, err := c.get(ctx, "retrievals", "/DataRetrievals", q, maxPageBody)
		if err != nil {
			return nil, 0, 0, err
		}
		p, err := decodeRetrievalPage(ctx, body, keep-len(list), c.masks())
		if err != nil {
			return nil, 0, 0, listError("retrievals", err)
		}
		invalid += len(p.Invalid)
		dropped += p.Skipped
		for _, r := range p.Retrievals {
			// A retrieval created between two page reads shifts the rest by one; never
			// report one twice.
			if !seen[r.ID] {
				seen[r.ID] = true
				list = append(list, r)
			}
		}
		offset += p.Count
		// Only v8 is asked for pages: a v6/v7 server that answers with a page anyway would
		// be asked for the same one again.
		if c.version != "v8" || !p.Paged || !c.morePages(p.Count, limit, offset, p.Limit, nil, p.Next) {
			return list, invalid, dropped, nil
		}
	}
	return nil, 0, 0, fmt.Errorf("retrievals: more than 1000 pages of %d; stopped", limit)
}
