package config

import (
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// SafeConfig holds the running configuration and lets it be swapped while scrapes read it.
type SafeConfig struct {
	mu  sync.RWMutex
	cfg *Config

	reloadSuccess   prometheus.Gauge
	reloadTimestamp prometheus.Gauge
	now             func() time.Time
}

// NewSafeConfig returns an empty SafeConfig and registers its reload gauges with reg
// (a nil reg skips registration).
func NewSafeConfig(reg prometheus.Registerer) *SafeConfig {
	f := promauto.With(reg)
	return &SafeConfig{
		reloadSuccess: f.NewGauge(prometheus.GaugeOpts{
			Name: "vb365_exporter_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		reloadTimestamp: f.NewGauge(prometheus.GaugeOpts{
			Name: "vb365_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
		now: time.Now,
	}
}

// Set makes cfg (and err, from Load of path) the running configuration only if it is valid
// and every apply function accepts it. On failure the previous configuration stays in
// effect, so a typo never takes the exporter down. apply lets the caller build what it
// derives from the config (API clients, TLS settings) before the swap, so a config that
// parses but cannot be used is rejected the same way. The caller loads the file itself, so
// that it can read it outside its own locks.
func (sc *SafeConfig) Set(path string, cfg *Config, err error, logger log.Logger, apply ...func(*Config) error) error {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	for _, fn := range apply {
		if err != nil {
			break
		}
		err = fn(cfg)
	}
	if err != nil {
		sc.reloadSuccess.Set(0)
		msg := "Error loading config, keeping the previous one"
		if sc.Get() == nil { // the first load: there is no previous one to keep
			msg = "Error loading config"
		}
		level.Error(logger).Log("msg", msg, "err", err)
		return err
	}
	sc.mu.Lock()
	sc.cfg = cfg
	sc.mu.Unlock()
	sc.reloadSuccess.Set(1)
	sc.reloadTimestamp.Set(float64(sc.now().UnixNano()) / 1e9)
	level.Info(logger).Log("msg", "Loaded config file", "file", path, "servers", len(cfg.Servers))
	return nil
}

// Get returns the running configuration, nil before the first successful load. Callers
// must treat it as read-only: a reload replaces it rather than modifying it.
func (sc *SafeConfig) Get() *Config {
	sc.mu.RLock()
	defer sc.mu.RUnlock()
	return sc.cfg
}
