package apikey

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// StripBody removes name from a form or JSON body, as Extract finds it
// (the same parsers: gateway.StripQueryParam for forms, JSON member names
// case-insensitively). It returns nil when the body is neither or does not
// change.
func StripBody(body []byte, contentType, name string) []byte {
	switch bodyKind(contentType) {
	case kindForm:
		out := gateway.StripQueryParam(string(body), name)
		if out == string(body) {
			return nil
		}
		return []byte(out)
	case kindJSON:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil
		}
		n := len(obj)
		for k := range obj {
			if strings.EqualFold(k, name) {
				delete(obj, k)
			}
		}
		if len(obj) == n {
			return nil
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(obj); err != nil {
			return nil
		}
		return bytes.TrimRight(b.Bytes(), "\n")
	}
	return nil
}
