package apikey

import (
	"bytes"
	"encoding/json"
	"mime"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// StripBody removes name from a form or JSON body. It returns nil when the
// body is neither or does not change.
func StripBody(body []byte, contentType, name string) []byte {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		out := gateway.StripQueryParam(string(body), name)
		if out == string(body) {
			return nil
		}
		return []byte(out)
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil
		}
		if _, ok := obj[name]; !ok {
			return nil
		}
		delete(obj, name)
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
