package gateway

import (
	"encoding/json"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// record builds the log record of a refusal. The credential fingerprint and
// consumer travel as the well-known fields "credential" and "consumer".
func (s *session) record(e *errcode.Error) *authlog.Record {
	ent := e.Code.Entry()
	rec := &authlog.Record{
		Plugin: s.policy.Plugin,
		Code:   string(ent.Code),
		Status: ent.Status,
		Detail: e.Detail,
	}
	if m := s.req.meta; m != nil {
		rec.RouteID, rec.PluginID, rec.Instance = m.RouteID, m.PluginID, m.InstanceName
	}
	for k, v := range e.Fields() {
		switch k {
		case "credential":
			rec.Fingerprint, _ = v.(string)
		case "consumer":
			rec.Consumer, _ = v.(string)
		default:
			if rec.Fields == nil {
				rec.Fields = map[string]any{}
			}
			rec.Fields[k] = v
		}
	}
	return rec
}

// ClientBody is the JSON body of a refusal: the catalog's fixed message and
// the code. Request data never goes into it.
func ClientBody(ent errcode.Entry) []byte {
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}{ent.Message, string(ent.Code)})
	return b
}
