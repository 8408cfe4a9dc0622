# kong-authkit — build, test, benchmark and fuzz.
GO        ?= go
BIN       ?= bin
PLUGINS   := $(notdir $(wildcard plugins/*))
FUZZTIME  ?= 10s
BENCHTIME ?= 1s
COUNT     ?= 3

.PHONY: all build test test-kong test-kong-docker lint hydra bench bench-kong fuzz docs clean

all: build

## build: static plugin binaries (bin/<plugin-name>) and the authkit CLI
build:
	@mkdir -p $(BIN)
	@for p in $(PLUGINS); do \
		echo "go build -o $(BIN)/$$p ./plugins/$$p"; \
		CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/$$p ./plugins/$$p || exit 1; \
	done
	@if [ -d cmd/authkit ]; then CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/authkit ./cmd/authkit; fi

## lint: gofmt and go vet must be clean
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## test: the project's test command (README, .ci/run). -count=1 because the
## end-to-end tests build plugin binaries in a subprocess, which Go's test
## cache cannot see.
## The real-Kong suite (e2e/) needs AUTHKIT_KONG, the path of a Kong 3.7+
## `kong` executable; without it those tests skip (go test hides a passing
## package's output, hence the line below), and with CI set they fail.
test: lint hydra
	$(GO) test -race -count=1 -timeout 30m ./...
	@if [ -z "$$AUTHKIT_KONG" ]; then echo "make test: the real-Kong tests (e2e/) were SKIPPED: AUTHKIT_KONG is not set (a Kong 3.7+ kong executable; see README, Testing)"; fi
	@if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then echo "make test: the Redis tests (policy: redis) were SKIPPED: redis-server is not installed (apt-get install redis-server; see README, Testing)"; fi

## test-kong: only the real-Kong suite, against AUTHKIT_KONG
test-kong: hydra
	@if [ -z "$$AUTHKIT_KONG" ]; then echo "test-kong: set AUTHKIT_KONG to a Kong 3.7+ kong executable" >&2; exit 2; fi
	$(GO) test -race -count=1 -timeout 30m -v ./e2e/ ./internal/realkong/

## test-kong-docker: the real-Kong suite inside Docker's official Kong image
## (e2e/docker/Dockerfile), for machines without a Kong install. Needs a
## Docker engine. Go's caches and the Hydra build live in Docker volumes,
## not in the working copy.
KONG_IMAGE ?= kong:3.9.1
test-kong-docker:
	docker build -t kong-authkit-e2e:$(subst :,-,$(KONG_IMAGE)) --build-arg KONG_IMAGE=$(KONG_IMAGE) -f e2e/docker/Dockerfile e2e/docker
	docker run --rm -v "$(CURDIR)":/src \
		-v kong-authkit-e2e-gocache:/root/.cache -v kong-authkit-e2e-gomod:/root/go/pkg/mod \
		-v kong-authkit-e2e-hydra:/src/tools/hydra/bin \
		kong-authkit-e2e:$(subst :,-,$(KONG_IMAGE)) \
		sh -c 'bash scripts/hydra.sh build && go test -race -count=1 -timeout 30m -v ./e2e/ ./internal/realkong/'

## hydra: build the Ory Hydra test peer (tools/hydra, its own module) once,
## before the tests, so no test binary spends its timeout compiling it
hydra:
	bash scripts/hydra.sh build

## bench: every benchmark, several runs, with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...

## bench-kong: added latency, throughput and plugin syscalls in a real Kong
## (AUTHKIT_KONG), next to the Go floor and Kong's Lua plugins, written to
## docs/performance.md. Needs wrk and strace (Debian packages). Run it on a
## quiet machine; AUTHKIT_BENCH_ROUNDS / AUTHKIT_BENCH_SECONDS size it.
bench-kong:
	@if [ -z "$$AUTHKIT_KONG" ]; then echo "bench-kong: set AUTHKIT_KONG to a Kong 3.7+ kong executable" >&2; exit 2; fi
	AUTHKIT_BENCH_KONG=$(CURDIR)/docs/performance.md $(GO) test -count=1 -timeout 60m -run '^TestKongPerformance$$' -v ./e2e/

## fuzz: run every Fuzz target for FUZZTIME each
fuzz:
	@for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "== $$dir $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$dir || exit 1; \
		done; \
	done

## docs: regenerate generated documentation
docs:
	$(GO) generate ./...

clean:
	rm -rf $(BIN)
