package gateway

import (
	"strings"
	"sync"
)

// fakeKong records every call the way Kong would see them.
type fakeKong struct {
	mu         sync.Mutex
	headers    map[string][]string
	headersErr error
	method     string
	credential string
	consumers  map[string]Consumer // by id and by username
	calls      []string

	exited      bool
	status      int
	body        []byte
	respHeaders map[string][]string
	logs        []string
	serialized  map[string]any
	authCons    *Consumer
	authCred    string
	upstream    map[string]string
}

func (f *fakeKong) call(name string) {
	f.mu.Lock()
	f.calls = append(f.calls, name)
	f.mu.Unlock()
	if f.exited {
		panic("PDK call after exit: " + name)
	}
}

func (f *fakeKong) Headers() (map[string][]string, error) {
	f.call("get_headers")
	if f.headersErr != nil {
		return nil, f.headersErr
	}
	return f.headers, nil
}
func (f *fakeKong) Method() (string, error)   { f.call("get_method"); return f.method, nil }
func (f *fakeKong) RawQuery() (string, error) { f.call("get_raw_query"); return "", nil }
func (f *fakeKong) RawBody() ([]byte, error)  { f.call("get_raw_body"); return nil, nil }
func (f *fakeKong) ClientIP() (string, error) { f.call("get_forwarded_ip"); return "192.0.2.1", nil }
func (f *fakeKong) RequestURL() (RequestURL, error) {
	f.call("request_url")
	return RequestURL{Scheme: "http", ForwardedScheme: "http", ForwardedHost: "kong.test", ForwardedPort: 8000, PathWithQuery: "/"}, nil
}
func (f *fakeKong) Credential() (string, error) { f.call("get_credential"); return f.credential, nil }
func (f *fakeKong) LoadConsumer(ref string) (Consumer, error) {
	f.call("load_consumer")
	return f.consumers[ref], nil
}
func (f *fakeKong) Authenticate(c *Consumer, id string) error {
	f.call("authenticate")
	f.authCons, f.authCred = c, id
	return nil
}
func (f *fakeKong) SetUpstreamHeaders(h map[string]string) error {
	f.call("set_headers")
	f.upstream = h
	return nil
}
func (f *fakeKong) SetUpstreamRawQuery(string) error { f.call("set_raw_query"); return nil }
func (f *fakeKong) SetUpstreamBody([]byte) error     { f.call("set_raw_body"); return nil }
func (f *fakeKong) Log(level, msg string) error {
	f.call("log." + level)
	f.logs = append(f.logs, level+" "+msg)
	return nil
}
func (f *fakeKong) SetSerializeValue(k string, v map[string]any) error {
	f.call("set_serialize_value")
	f.serialized = v
	return nil
}
func (f *fakeKong) Exit(status int, body []byte, h map[string][]string) {
	f.call("exit")
	f.exited, f.status, f.body, f.respHeaders = true, status, body, h
}
func (f *fakeKong) ServiceResponse() (int, map[string][]string, []byte, error) {
	f.call("service_response")
	return 200, nil, nil, nil
}
func (f *fakeKong) SetResponseHeader(string, string) error { f.call("response.set_header"); return nil }

func (f *fakeKong) callList() string { return strings.Join(f.calls, ",") }
