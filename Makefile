# wisp: `make run` starts the server with embedded defaults; `make test` runs the whole suite,
# installing what the browser and GStreamer interop tests need (idempotently) first.
GO ?= go

.PHONY: run build test deps unit interop bench vet fmt-check

run:
	$(GO) run ./cmd/wisp

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/wisp ./cmd/wisp
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/wisp-load ./cmd/wisp-load 2>/dev/null || true

# The whole suite: Debian packages the browser/GStreamer tests need (installed only when missing),
# static checks, Go tests under the race detector (one drives headless Chromium), then the interop
# tests with real third-party clients (GStreamer, Chromium, whip-whep).
test: deps fmt-check vet unit interop

deps:
	interop/deps.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# TestAutoLayersIsolation runs without the race detector (see its comment): its 21 viewers share
# the server's two cores, which -race's slower packets starve.
unit:
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -count=1 -timeout 10m -run '^TestAutoLayersIsolation$$' ./cmd/wisp

interop:
	interop/run.sh

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
