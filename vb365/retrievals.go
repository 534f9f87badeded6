package vb365

import (
	"context"
	"fmt"
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

// wireRetrieval is named like the other wire types (see wireJob).
type wireRetrieval struct {
	ID, Name, Type, DataState, LastStatus string
	ExpirationTime                        *APITime
}

func (w *wireRetrieval) toRetrieval(m masks) (Retrieval, error) {
	id, err := m.entryID(w.ID)
	if err != nil {
		return Retrieval{}, fmt.Errorf("data retrieval has no id")
	}
	r := Retrieval{ID: id, Name: w.Name, Type: w.Type, DataState: w.DataState, LastStatus: w.LastStatus}
	m.retrieval(&r)
	if w.ExpirationTime != nil {
		r.ExpirationTime = w.ExpirationTime.Time
	}
	return r, nil
}

// ListRetrievals reads the data retrievals: GET /vN/DataRetrievals, following v8's pages.
// At most keep (which must be positive: the list is always bounded) are decoded and
// returned; the rest are counted in dropped, not decoded. The whole list is still read, so
// that dropped is exact, but past keep it only costs its bytes (each answer is under the
// size cap) and a scan. Entries that cannot be decoded are skipped and counted in invalid.
func (c *Client) ListRetrievals(ctx context.Context, keep int) (list []Retrieval, invalid, dropped int, err error) {
	all, st, err := listKind(ctx, c, "retrievals", "/DataRetrievals", keep, (*wireRetrieval).toRetrieval)
	if err != nil {
		return nil, 0, 0, err
	}
	// A retrieval created between two page reads shifts the rest by one; never report one
	// twice.
	seen := make(map[ID]bool, len(all))
	for _, r := range all {
		if !seen[r.ID] {
			seen[r.ID] = true
			list = append(list, r)
		}
	}
	return list, st.Invalid, st.Dropped, nil
}
