package kongwire

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// nginxLevels maps kong.log.<level> to the name nginx writes in brackets.
var nginxLevels = map[string]string{
	"debug": "debug", "info": "info", "notice": "notice", "warn": "warn",
	"err": "error", "crit": "crit", "alert": "alert",
}

// maxErrorLine is NGX_MAX_ERROR_STR (2048) minus the line feed: nginx
// cuts a longer error.log line, request trailer included.
const maxErrorLine = 2048 - 1

// connSeq plays nginx's connection number (the "*55" of a line).
var connSeq atomic.Int64

// ErrorLogLines renders the event's kong.log.<level>(...) lines as Kong 3.9
// writes them to error.log during a request (kong-go-plugins.md §4.2):
//
//	2026/11/27 10:00:00 [notice] 1234#0: *55 [kong] pb_rpc.lua:233 <message>, client: <ip>, server: kong, request: "<METHOD> <path?query> HTTP/1.1", host: "<host>", request_id: "<hex>"
//
// The core logger captured at init gives no plugin namespace and the call
// site of call_pdk; nginx appends the request trailer and cuts the line at
// NGX_MAX_ERROR_STR. when is the local time nginx prints (no zone); every
// line of the request shares its connection number and request_id. In the
// response phase Kong runs while nginx sends the buffered answer, and
// nginx adds its log context before the trailer:
// `<message> while sending to client, client: …` (observed in Kong 3.9.3,
// docs/kong-behaviour.md). Lines of a Log-phase event end with
// ", context: ngx.timer" instead of the trailer.
func (r *Result) ErrorLogLines(req *Request, when time.Time) []string {
	if len(r.Logs) == 0 {
		return nil
	}
	q := req.withDefaults()
	conn := connSeq.Add(1) + 54
	trailer := fmt.Sprintf(`, client: %s, server: kong, request: "%s %s HTTP/1.1", host: "%s", request_id: "%s"`,
		q.ClientIP, q.Method, requestURI(&q), hostHeader(&q), requestID(&q, when, conn))
	switch r.Phase {
	case "response":
		trailer = " while sending to client" + trailer
	case "log":
		trailer = ", context: ngx.timer"
	}
	out := make([]string, 0, len(r.Logs))
	for _, l := range r.Logs {
		level := nginxLevels[l.Level]
		if level == "" {
			level = l.Level
		}
		line := fmt.Sprintf("%s [%s] 1234#0: *%d [kong] pb_rpc.lua:233 %s%s", when.Format("2006/01/02 15:04:05"), level, conn, l.Message, trailer)
		if len(line) > maxErrorLine {
			line = line[:maxErrorLine]
		}
		out = append(out, line)
	}
	return out
}

// FileLogLine renders the file-log/http-log JSON line of the request in the
// shape of Kong's serializer (kong.log.serialize, §4.3): started_at (ms),
// client_ip, request {method, uri (with the query), url, headers (lower-case,
// Authorization redacted as Kong does)}, response {status}, route {id} (the
// route id the plugin logged, when it logged one), consumer {id, username}
// when a consumer was authenticated, and every set_serialize_value at its
// top-level key (r.Serialize).
func (r *Result) FileLogLine(req *Request, when time.Time) string {
	q := req.withDefaults()
	hdr := map[string]any{}
	for k, v := range q.Headers {
		k = strings.ToLower(k)
		if k == "authorization" || k == "proxy-authorization" {
			hdr[k] = "REDACTED"
			continue
		}
		if len(v) == 1 {
			hdr[k] = v[0]
		} else {
			hdr[k] = append([]string(nil), v...)
		}
	}
	if _, ok := hdr["host"]; !ok {
		hdr["host"] = hostHeader(&q)
	}
	status := r.Status
	if status == 0 {
		status = 200
	}
	m := map[string]any{
		"started_at": when.UnixMilli(),
		"client_ip":  q.ClientIP,
		"request": map[string]any{
			"method": q.Method, "uri": requestURI(&q), "headers": hdr, "size": len(q.Body),
			"url": fmt.Sprintf("%s://%s:%d%s", q.Scheme, q.Host, q.Port, requestURI(&q)),
		},
		"response":  map[string]any{"status": status, "size": len(r.Body)},
		"latencies": map[string]any{"kong": 0, "proxy": 0, "request": 0},
	}
	if route := routeIDOf(r.Serialize); route != "" {
		m["route"] = map[string]any{"id": route}
	}
	if r.Authenticated && r.AuthConsumer != nil {
		m["consumer"] = map[string]any{"id": r.AuthConsumer.ID, "username": r.AuthConsumer.Username}
	}
	for k, v := range r.Serialize {
		m[k] = deepCopy(v)
	}
	b, err := json.Marshal(m)
	if err != nil {
		// Serialize values come from proto Values: always encodable.
		panic("kongwire: FileLogLine: " + err.Error())
	}
	return string(b)
}

func requestURI(q *Request) string {
	if q.RawQuery != "" {
		return q.Path + "?" + q.RawQuery
	}
	return q.Path
}

// hostHeader is what nginx prints as host: the Host header the client
// sent, else host[:port] as a client would have sent it.
func hostHeader(q *Request) string {
	if h := q.Headers.Get("Host"); h != "" {
		return h
	}
	if (q.Scheme == "http" && q.Port == 80) || (q.Scheme == "https" && q.Port == 443) {
		return q.Host
	}
	return net.JoinHostPort(q.Host, strconv.Itoa(q.Port))
}

// requestID is a stable 32-hex-digit id in the shape of Kong's request_id.
func requestID(q *Request, when time.Time, conn int64) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d %s %s %s %d", conn, q.Method, requestURI(q), q.ClientIP, when.UnixNano())))
	return hex.EncodeToString(sum[:16])
}

// routeIDOf finds a route_id among the serialize values (authkit records
// carry the route id Kong gave the instance).
func routeIDOf(ser map[string]any) string {
	for _, v := range ser {
		if m, ok := v.(map[string]any); ok {
			if id, ok := m["route_id"].(string); ok && id != "" {
				return id
			}
		}
	}
	return ""
}
