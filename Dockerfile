# syntax=docker/dockerfile:1
# Build: a static binary (no cgo) from the module, cached by go.mod/go.sum.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/wisp ./cmd/wisp

# Run: distroless static, non-root. HTTP on 8080, all media on UDP 8189 (ICE-TCP fallback on TCP 8189).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wisp /usr/local/bin/wisp
USER nonroot:nonroot
EXPOSE 8080/tcp 8189/udp 8189/tcp
ENTRYPOINT ["/usr/local/bin/wisp"]
