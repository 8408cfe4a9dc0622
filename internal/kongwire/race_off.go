//go:build !race

package kongwire

const raceEnabled = false
