//go:build race

package main

// raceEnabled scales the large-log test down: the race detector slows
// parsing about tenfold, and the memory property holds at any ratio.
const raceEnabled = true
