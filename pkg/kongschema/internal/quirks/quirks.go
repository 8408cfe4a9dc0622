// Package quirks holds a config struct exercising every rule and quirk of
// go-pdk's getSchemaDict, shared by the kongschema tests and the test plugin
// that dumps it through the real go-pdk server.
package quirks

import "time"

// Inner is a nested record.
type Inner struct {
	Username string `json:"username"`
	Strict   bool   `json:"strict"`
	hidden   string // unexported: skipped
}

// Embedded is an embedded struct: go-pdk emits it as one record named
// after the type, lower-cased (encoding/json would flatten it).
type Embedded struct {
	Flat string `json:"flat"`
}

// Config mixes every kind go-pdk maps, and the ones it drops.
type Config struct {
	Embedded
	Message     string                 `json:"message"`
	Enabled     *bool                  `json:"enabled"`
	Count       int                    `json:"count"`
	Small       int32                  `json:"small"`
	Limit       uint32                 `json:"limit"`
	Size        uint                   `json:"size"`
	Ratio       float64                `json:"ratio"`
	Ratio32     float32                `json:"ratio32"`
	Tags        []string               `json:"tags"`
	PtrTags     *[]*string             `json:"ptr_tags"`
	Labels      map[string]string      `json:"labels"`
	Weights     map[string][]int       `json:"weights"`
	Inner       Inner                  `json:"inner"`
	InnerPtr    *Inner                 `json:"inner_ptr"`
	Credentials []Inner                `json:"credentials"`
	Omit        string                 `json:"omit,omitempty"` // named "omit,omitempty"
	Dash        string                 `json:"-"`              // named "-"
	NoTag       string                 // named "notag"
	ApiEndPoint string                 // named "apiendpoint"
	When        time.Time              `json:"when"` // a record with no exported fields
	TTL         int64                  `json:"ttl"`  // dropped
	Timeout     time.Duration          `json:"timeout"`
	Tiny        int8                   `json:"tiny"`
	Big         uint64                 `json:"big"`
	Raw         []byte                 `json:"raw"`
	Any         interface{}            `json:"any"`
	Extra       map[string]interface{} `json:"extra"`
	IntKeys     map[int64]string       `json:"int_keys"`
	Fixed       [2]string              `json:"fixed"`
	Callback    func()                 `json:"callback"`
	Chan        chan int               `json:"chan"`
	secret      string                 // unexported: skipped
}
