package gateway

import "fmt"

// logLevels are Kong's kong.log levels.
var logLevels = map[string]bool{"debug": true, "info": true, "notice": true, "warn": true, "err": true, "crit": true, "alert": true}

// CheckLogLevel validates a log_level config value ("" means the default).
func CheckLogLevel(level string) error {
	if level == "" || logLevels[level] {
		return nil
	}
	return fmt.Errorf("log_level: %q is not one of debug, info, notice, warn, err, crit, alert", level)
}
