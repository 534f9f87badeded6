package config

import "github.com/go-kit/log"

// ReloadConfig is Set of what Load(path) gives: what a reload does, in one call.
func (sc *SafeConfig) ReloadConfig(path string, logger log.Logger, apply ...func(*Config) error) error {
	cfg, err := Load(path)
	return sc.Set(path, cfg, err, logger, apply...)
}
