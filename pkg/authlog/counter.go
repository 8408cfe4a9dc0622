package authlog

import (
	"sort"
	"strings"
)

// Limits that keep an Aggregator's memory flat however large or hostile the
// input: every key comes from a log line, and a log can hold millions of
// distinct client addresses (a credential-stuffing run) or arbitrary codes.
const (
	// MaxKeys is how many distinct routes, clients or consumers are
	// counted per code; events with further keys go to Overflow.
	MaxKeys = 1000
	// MaxCodes is how many distinct codes are tracked; events with further
	// codes are counted under OverflowCode.
	MaxCodes = 256
	// MaxKeyLen truncates keys, so a 1 MiB "client" costs 256 bytes.
	MaxKeyLen = 256
	// TopN is how many keys a report lists per dimension.
	TopN = 5
)

// OverflowCode collects events whose code arrived after MaxCodes others.
const OverflowCode = "(other)"

// counter counts occurrences of at most max distinct keys.
type counter struct {
	max      int
	counts   map[string]int64
	overflow int64
}

func newCounter(max int) *counter {
	return &counter{max: max, counts: make(map[string]int64)}
}

// add counts n occurrences of key.
func (c *counter) add(key string, n int64) {
	key = truncateKey(key)
	if _, ok := c.counts[key]; ok {
		c.counts[key] += n
		return
	}
	if len(c.counts) >= c.max {
		c.overflow += n
		return
	}
	// Clone: key may be a substring of a whole log line, which a map key
	// would otherwise keep alive.
	c.counts[strings.Clone(key)] = n
}

// KeyCount is one row of a top list. An empty Key means the events carried
// no value (no consumer, no route).
type KeyCount struct {
	Key string `json:"key"`
	// Name is a display name for the key where one is known (a route name).
	Name string `json:"name,omitempty"`
	// Service names a route's service, where the CLI could resolve it
	// (--config, --admin-url).
	Service string `json:"service,omitempty"`
	Count   int64  `json:"count"`
}

// Top is the head of one dimension's distribution.
type Top struct {
	Top []KeyCount `json:"top"`
	// Distinct is the number of distinct keys counted (at most MaxKeys).
	Distinct int `json:"distinct"`
	// Rest is the number of events not in Top, including Overflow.
	Rest int64 `json:"rest"`
	// Overflow is the number of events whose key was not counted because
	// MaxKeys distinct keys had already been seen: when it is not zero the
	// top list is exact only among the first MaxKeys keys.
	Overflow int64 `json:"overflow"`
}

func (c *counter) top(n int, names func(string) string) Top {
	rows := make([]KeyCount, 0, len(c.counts))
	var total int64
	for k, v := range c.counts {
		rows = append(rows, KeyCount{Key: k, Count: v})
		total += v
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].Key < rows[j].Key
	})
	t := Top{Distinct: len(rows), Overflow: c.overflow}
	if len(rows) > n {
		rows = rows[:n]
	}
	var shown int64
	for i := range rows {
		shown += rows[i].Count
		if names != nil {
			rows[i].Name = names(rows[i].Key)
		}
	}
	t.Top = rows
	t.Rest = total - shown + c.overflow
	return t
}

func truncateKey(s string) string {
	if len(s) > MaxKeyLen {
		return s[:MaxKeyLen]
	}
	return s
}
