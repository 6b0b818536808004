# wisp: `make run` starts the server with embedded defaults; `make test` runs the whole suite,
# installing what the browser and GStreamer interop tests need (idempotently) first.
GO ?= go

.PHONY: run build test unit netdeps interop bench vet fmt-check docker-binary

run:
	$(GO) run ./cmd/wisp

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/wisp ./cmd/wisp
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/wisp-load ./cmd/wisp-load 2>/dev/null || true

# The whole suite: static checks, Go tests under the race detector, then the interop tests with
# real third-party clients (GStreamer, Chromium, whip-whep) when the interop folder is present.
test: fmt-check vet unit interop

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# ip and tc (iproute2) build the bandwidth-capped link of TestBandwidthCappedViewer.
netdeps:
	@command -v ip >/dev/null && command -v tc >/dev/null || { apt-get update -qq && apt-get install -y -qq iproute2; }

unit: netdeps
	$(GO) test -race -count=1 -timeout 20m ./...

interop:
	@if [ -x interop/run.sh ]; then interop/run.sh; else echo "interop: no interop/run.sh yet"; fi

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
