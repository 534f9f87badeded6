package vb365

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Retrieval is a data retrieval job (RESTDataRetrievalComposed), reduced to what the
// exporter shows next to its sessions.
type Retrieval struct {
	ID   string
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

// DecodeRetrieval parses one RESTDataRetrievalComposed body.
func DecodeRetrieval(body []byte) (Retrieval, error) {
	var w wireRetrieval
	if err := json.Unmarshal(body, &w); err != nil {
		return Retrieval{}, fmt.Errorf("decoding data retrieval: %w", err)
	}
	if w.ID == "" {
		return Retrieval{}, fmt.Errorf("data retrieval has no id")
	}
	r := Retrieval{ID: strings.ToLower(w.ID), Name: w.Name, Type: w.Type, DataState: w.DataState, LastStatus: w.LastStatus}
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
	// Count is the number of entries on the page, decodable or not.
	Count int
	// Limit is the page size the server says it used (v8); 0 when not sent.
	Limit int
}

// DecodeRetrievalPage parses either shape of GET /vN/DataRetrievals, whatever the version:
// a server that answers with the other shape is still understood.
func DecodeRetrievalPage(body []byte) (*RetrievalPage, error) {
	var raws []json.RawMessage
	p := &RetrievalPage{}
	trimmed := bytes.TrimSpace(body)
	switch {
	case bytes.HasPrefix(trimmed, []byte("[")):
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("decoding data retrievals: %w", err)
		}
	default:
		var w struct {
			Limit   int               `json:"limit"`
			Results []json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(trimmed, &w); err != nil {
			return nil, fmt.Errorf("decoding data retrievals: %w", err)
		}
		if w.Results == nil {
			return nil, fmt.Errorf("decoding data retrievals: neither an array nor a page with results")
		}
		raws, p.Paged, p.Limit = w.Results, true, w.Limit
	}
	p.Count = len(raws)
	for i, raw := range raws {
		r, err := DecodeRetrieval(raw)
		if err != nil {
			p.Invalid = append(p.Invalid, fmt.Errorf("retrievals[%d]: %w", i, err))
			continue
		}
		p.Retrievals = append(p.Retrievals, r)
	}
	return p, nil
}

// ListRetrievals reads every data retrieval: GET /vN/DataRetrievals, following v8's pages.
// Entries that cannot be decoded are skipped and counted in invalid.
func (c *Client) ListRetrievals(ctx context.Context) (list []Retrieval, invalid int, err error) {
	const limit = MaxPageLimit
	offset := 0
	seen := map[string]bool{}
	for range 1000 {
		var q url.Values
		if c.version == "v8" {
			q = url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}}
		}
		body, err := c.get(ctx, "retrievals", "/DataRetrievals", q, maxPageBody)
		if err != nil {
			return nil, 0, err
		}
		p, err := DecodeRetrievalPage(body)
		if err != nil {
			return nil, 0, &DecodeError{Endpoint: "retrievals", Err: err}
		}
		invalid += len(p.Invalid)
		for _, r := range p.Retrievals {
			// A retrieval created between two page reads shifts the rest by one; never
			// report one twice.
			if !seen[r.ID] {
				seen[r.ID] = true
				list = append(list, r)
			}
		}
		// A server may serve smaller pages than asked for; its own limit then says whether
		// a short page is the last one.
		pageLimit := limit
		if p.Limit > 0 && p.Limit < limit {
			pageLimit = p.Limit
		}
		if !p.Paged || p.Count == 0 || p.Count < pageLimit {
			return list, invalid, nil
		}
		offset += p.Count
	}
	return nil, 0, fmt.Errorf("retrievals: more than 1000 pages of %d; stopped", limit)
}
