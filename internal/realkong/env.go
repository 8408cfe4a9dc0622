package realkong

import (
	"path"
	"strings"
)

// DefaultPrefix is Kong's default prefix, where go-pdk also puts the
// socket when started without -kong-prefix.
const DefaultPrefix = "/usr/local/kong"

// PluginEnv is how the project tells Kong to load its plugins: the
// settings of README's "Loading the plugins into Kong" and the Dockerfile,
// for plugin binaries in binDir and Kong's prefix. Each plugin is its own
// plugin server named like the plugin (Kong lower-cases the name and turns
// `-` into `_` in the per-server keys); START_CMD gets -kong-prefix when
// the prefix is not Kong's default, so the socket lands where Kong 3.9+
// looks (<prefix>/<name>.socket); QUERY_CMD is always set (Kong 3.6-3.8
// have no default for it). The tests in this package check that README
// and Dockerfile say exactly this, and every real-Kong test starts Kong
// with it.
func PluginEnv(binDir, prefix string, plugins []string) map[string]string {
	env := map[string]string{
		"KONG_PLUGINS":            strings.Join(append([]string{"bundled"}, plugins...), ","),
		"KONG_PLUGINSERVER_NAMES": strings.Join(plugins, ","),
	}
	for _, p := range plugins {
		key := "KONG_PLUGINSERVER_" + strings.ToUpper(strings.ReplaceAll(p, "-", "_"))
		bin := path.Join(binDir, p)
		start := bin
		if prefix != DefaultPrefix {
			start += " -kong-prefix " + prefix
		}
		env[key+"_START_CMD"] = start
		env[key+"_QUERY_CMD"] = bin + " -dump"
	}
	return env
}
