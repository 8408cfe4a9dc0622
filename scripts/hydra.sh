#!/usr/bin/env bash
# Build, start and stop Ory Hydra v2.3.0, the OAuth 2.0 test peer.
#
#   scripts/hydra.sh build
#   scripts/hydra.sh start [--strategy jwt|opaque] [--public-port N --admin-port N] [--dir D]
#   scripts/hydra.sh stop  [--dir D]
#
# Hydra is tracked as a Go tool in tools/hydra (its own module), so the main
# module never inherits Hydra's dependency tree. Needs Go and gcc (cgo SQLite).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOL_DIR="$ROOT/tools/hydra"
BIN_DIR="$TOOL_DIR/bin"
BIN="$BIN_DIR/hydra"
STAMP="$BIN_DIR/hydra.stamp"
DEFAULT_DIR="${TMPDIR:-/tmp}/kong-authkit-hydra"

die() { echo "hydra.sh: $*" >&2; exit 1; }

usage() {
	sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

now_ms() { date +%s%3N; }

# The stamp covers everything that determines the binary: the pinned
# dependency set, the build flags and the Go toolchain.
BUILD_TAGS="sqlite,sqlite_omit_load_extension"
compute_stamp() {
	{
		cat "$TOOL_DIR/go.mod" "$TOOL_DIR/go.sum"
		echo "tags=$BUILD_TAGS stamp-format=2"
		go env GOVERSION GOOS GOARCH
	} | sha256sum | cut -d' ' -f1
}

# The Hydra version pinned in tools/hydra/go.mod (stamped into `hydra version`).
hydra_version() {
	awk '$1 == "github.com/ory/hydra/v2" { print $2; exit }' "$TOOL_DIR/go.mod"
}

cmd_build() {
	command -v go >/dev/null || die "go not found in PATH"
	mkdir -p "$BIN_DIR"
	# Serialise concurrent builds (e.g. several test packages at once).
	if command -v flock >/dev/null && [[ -z "${HYDRA_BUILD_LOCKED:-}" ]]; then
		HYDRA_BUILD_LOCKED=1 exec flock "$BIN_DIR/.build.lock" bash "${BASH_SOURCE[0]}" build
	fi
	local want
	want="$(compute_stamp)"
	if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
		echo "hydra: $BIN is up to date"
		return 0
	fi
	command -v "${CC:-gcc}" >/dev/null || die "a C compiler (gcc) is needed: Hydra's SQLite driver uses cgo"
	local t0 t1
	t0="$(now_ms)"
	echo "hydra: building $BIN (first build takes ~2 min on 2 cores)..."
	rm -f "$STAMP"
	(
		cd "$TOOL_DIR"
		CGO_ENABLED=1 go build -mod=readonly -buildvcs=false \
			-tags "$BUILD_TAGS" -trimpath \
			-ldflags "-s -w -X github.com/ory/hydra/v2/driver/config.Version=$(hydra_version)" \
			-o "$BIN.tmp.$$" github.com/ory/hydra/v2
	) || { rm -f "$BIN.tmp.$$"; die "build failed"; }
	mv -f "$BIN.tmp.$$" "$BIN"
	echo "$want" >"$STAMP"
	t1="$(now_ms)"
	echo "hydra: built in $(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))s: $("$BIN" version 2>/dev/null | grep -m1 -i version || echo "$BIN")"
}

random_secret() {
	# 64 hex chars; od is in coreutils, so no openssl needed.
	od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

wait_ready() {
	local url="$1" deadline="$2" pid="$3"
	while :; do
		if curl_ok "$url"; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		if (($(now_ms) > deadline)); then
			return 1
		fi
		sleep 0.05
	done
}

# curl is not guaranteed on a fresh machine; fall back to bash's /dev/tcp.
curl_ok() {
	local url="$1"
	if command -v curl >/dev/null; then
		curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null
		return
	fi
	local hostport="${url#http://}" path
	path="/${hostport#*/}"
	hostport="${hostport%%/*}"
	local host="${hostport%:*}" port="${hostport##*:}" status
	exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || return 1
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
	IFS= read -r -t 1 status <&3 || status=""
	exec 3<&- 3>&-
	[[ "$status" == *" 200 "* ]]
}

# Hydra generates its RSA-4096 signing keys lazily, inside the first request
# that needs them, under a fixed 10 s HTTP write timeout: on a busy machine
# that first token/JWKS request can fail with EOF. Generate both key sets now
# (a POST that times out still persists its key, so poll until it is listed).
warm_keys() {
	local admin="$1" log="$2" set pids=()
	command -v curl >/dev/null || return 0
	for set in hydra.openid.id-token hydra.jwt.access-token; do
		(
			code="$(curl -s -o /dev/null -w '%{http_code}' "$admin/admin/keys/$set" || true)"
			[[ "$code" == 200 ]] && exit 0
			curl -s -o /dev/null --max-time 120 -X POST -H 'Content-Type: application/json' \
				-d '{"alg":"RS256","use":"sig"}' "$admin/admin/keys/$set" || true
			for _ in $(seq 1 1200); do
				code="$(curl -s -o /dev/null -w '%{http_code}' "$admin/admin/keys/$set" || true)"
				[[ "$code" == 200 ]] && exit 0
				sleep 0.1
			done
			echo "hydra.sh: key set $set was not generated within 2 min" >&2
			exit 1
		) &
		pids+=("$!")
	done
	local rc=0 p
	for p in "${pids[@]}"; do
		wait "$p" || rc=1
	done
	((rc == 0)) || fail_start "generating signing keys failed" "$log"
}

fail_start() {
	local msg="$1" log="$2"
	echo "hydra.sh: $msg" >&2
	if [[ -f "$log" ]]; then
		echo "---- last 40 lines of $log ----" >&2
		tail -n 40 "$log" >&2
	fi
	exit 1
}

cmd_start() {
	local strategy=jwt public_port=4444 admin_port=4445 dir="$DEFAULT_DIR" timeout=30
	while (($#)); do
		case "$1" in
		--strategy) strategy="${2:?}"; shift 2 ;;
		--public-port) public_port="${2:?}"; shift 2 ;;
		--admin-port) admin_port="${2:?}"; shift 2 ;;
		--dir) dir="${2:?}"; shift 2 ;;
		--timeout) timeout="${2:?}"; shift 2 ;;
		-h | --help) usage ;;
		*) die "start: unknown argument: $1" ;;
		esac
	done
	case "$strategy" in jwt | opaque) ;; *) die "start: --strategy must be jwt or opaque, not '$strategy'" ;; esac
	[[ -x "$BIN" ]] || die "$BIN not built: run '$0 build' first"
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	local pidfile="$dir/hydra.pid" log="$dir/hydra.log"
	if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		die "start: Hydra already running in $dir (pid $(cat "$pidfile")); run '$0 stop --dir $dir'"
	fi

	local dsn="sqlite://$dir/db.sqlite?_fk=true&_journal_mode=WAL&_busy_timeout=10000"
	: >"$log"
	if ! DSN="$dsn" "$BIN" migrate sql up -e --yes >>"$log" 2>&1; then
		fail_start "migration failed (DSN $dsn)" "$log"
	fi

	local issuer="http://127.0.0.1:$public_port"
	# Login and consent URLs need not serve anything: the test helper only
	# reads the challenge from the Location header Hydra redirects to.
	(
		export DSN="$dsn" \
			URLS_SELF_ISSUER="$issuer" \
			URLS_LOGIN="http://127.0.0.1:$public_port/_test/login" \
			URLS_CONSENT="http://127.0.0.1:$public_port/_test/consent" \
			URLS_ERROR="http://127.0.0.1:$public_port/_test/error" \
			SERVE_PUBLIC_HOST=127.0.0.1 SERVE_PUBLIC_PORT="$public_port" \
			SERVE_ADMIN_HOST=127.0.0.1 SERVE_ADMIN_PORT="$admin_port" \
			SECRETS_SYSTEM="${HYDRA_SECRETS_SYSTEM:-$(random_secret)}" \
			STRATEGIES_ACCESS_TOKEN="$strategy" \
			STRATEGIES_JWT_SCOPE_CLAIM=both \
			LOG_LEVEL="${HYDRA_LOG_LEVEL:-info}"
		exec "$BIN" serve all --dev --sqa-opt-out
	) >>"$log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$pidfile"

	local deadline=$(($(now_ms) + timeout * 1000))
	if ! wait_ready "http://127.0.0.1:$public_port/health/ready" "$deadline" "$pid" ||
		! wait_ready "http://127.0.0.1:$admin_port/health/ready" "$deadline" "$pid"; then
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			fail_start "Hydra (pid $pid) not ready on ports $public_port/$admin_port within ${timeout}s" "$log"
		fi
		rm -f "$pidfile"
		fail_start "Hydra exited before it was ready" "$log"
	fi
	warm_keys "http://127.0.0.1:$admin_port" "$log"
	echo "hydra: ready pid=$pid strategy=$strategy issuer=$issuer admin=http://127.0.0.1:$admin_port dir=$dir"
}

cmd_stop() {
	local dir="$DEFAULT_DIR"
	while (($#)); do
		case "$1" in
		--dir) dir="${2:?}"; shift 2 ;;
		-h | --help) usage ;;
		*) die "stop: unknown argument: $1" ;;
		esac
	done
	local pidfile="$dir/hydra.pid"
	if [[ ! -f "$pidfile" ]]; then
		echo "hydra: not running (no $pidfile)"
		return 0
	fi
	local pid
	pid="$(cat "$pidfile")"
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
	echo "hydra: stopped pid $pid"
}

main() {
	(($#)) || usage
	local sub="$1"
	shift
	case "$sub" in
	build) cmd_build "$@" ;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	-h | --help | help) usage ;;
	*) die "unknown subcommand: $sub" ;;
	esac
}

main "$@"
