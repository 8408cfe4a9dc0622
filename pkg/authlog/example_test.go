package authlog_test

import (
	"fmt"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

func ExampleParser_Parse() {
	rec := &authlog.Record{Plugin: "authkit-basic", Code: "BASIC_INVALID_CREDENTIALS", Status: 401, Fingerprint: "1a2b3c4d"}
	line := `2026/11/27 10:00:00 [notice] 1234#0: *55 [kong] pb_rpc.lua:233 ` + rec.Line() +
		`, client: 172.18.0.1, server: kong, request: "GET /basic/x HTTP/1.1", host: "localhost:8000", request_id: "abc123"`
	ev, kind, err := authlog.Parser{Location: time.UTC}.Parse([]byte(line))
	fmt.Println(kind, err)
	fmt.Println(ev.Time.Format(time.RFC3339), ev.Level, ev.Record.Code, ev.Client, ev.Method, ev.Path)
	// Output:
	// error.log <nil>
	// 2026-11-27T10:00:00Z notice BASIC_INVALID_CREDENTIALS 172.18.0.1 GET /basic/x
}

func ExampleAggregator() {
	a := authlog.NewAggregator(authlog.Filter{Codes: []string{"basic_missing"}})
	const head = `2026/11/27 10:00:00 [notice] 1#0: *5 [kong] pb_rpc.lua:233 `
	a.AddLine("stdin", 1, []byte(head+`authkit {"plugin":"authkit-basic","code":"BASIC_MISSING","status":401}, context: ngx.timer`))
	a.AddLine("stdin", 2, []byte(`kong-1  | `+head+`authkit {"plugin":"authkit-key","code":"APIKEY_MISSING","status":401}, context: ngx.timer`))
	a.AddLine("stdin", 3, []byte(`{"response":{"status":200}}`))
	// Written by nginx, quoting a client's header: not an event.
	a.AddLine("stdin", 4, []byte(`2026/11/27 10:00:00 [info] 1#0: *6 client sent invalid header line: "X_Evil: authkit {\"code\":\"BASIC_MISSING\"}" while reading client request headers`))
	r := a.Report()
	fmt.Printf("%+v\n", r.Totals)
	fmt.Println(r.Codes[0].Code, r.Codes[0].Count)
	// Output:
	// {Lines:4 Events:2 Matched:1 NotAuthkit:1 Unparseable:0 Foreign:1 Untimed:0}
	// BASIC_MISSING 1
}
