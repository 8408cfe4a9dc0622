package gateway

// LogLevels are Kong's kong.log levels, most verbose first: what a
// plugin's log_level may be (each config's one_of tag lists them;
// pluginreg's tests keep the lists equal).
var LogLevels = []string{"debug", "info", "notice", "warn", "err", "crit", "alert"}
