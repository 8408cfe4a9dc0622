package redisstore

import (
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// The redis record's `default` tags (what the README and Kong's schema
// show) are the values Compile falls back to.
func TestRecordDefaultsAgree(t *testing.T) {
	var c Config
	if err := kongschema.ApplyDefaults(&c); err != nil {
		t.Fatal(err)
	}
	if *c.Port != DefaultPort || *c.TimeoutMS != DefaultTimeoutMS || *c.KeyPrefix != DefaultKeyPrefix || !*c.SSLVerify || *c.Database != 0 {
		t.Fatalf("defaults %+v disagree with DefaultPort/DefaultTimeoutMS/DefaultKeyPrefix", c)
	}
}
