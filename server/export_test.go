package server

import (
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
)

// ttl is a cache_ttl as a config carries it.
func ttl(d time.Duration) *config.Duration {
	c := config.Duration(d)
	return &c
}

// Tests compare the read strategies, which a target otherwise chooses by cost.
type ReadStrategy = readStrategy

const (
	ReadPerID = readPerID
	ReadList  = readList
)

// ForceReadStrategy makes t read every scrape's sessions one way.
func ForceReadStrategy(t *Server, m ReadStrategy) { t.mode = m }
