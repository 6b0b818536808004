package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// profiler serves Go's runtime profiles (/debug/pprof/) on its own listener, apart from the
// public HTTP server, for measuring a running wisp (docs/benchmarks.md). Off unless -pprof is set;
// bind it to a loopback address: profiles reveal internals.
type profiler struct {
	srv *http.Server
	l   net.Listener
}

// startProfiler listens on addr and serves the profiles until stop.
func startProfiler(addr string, log *slog.Logger) (*profiler, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen pprof %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	p := &profiler{l: l, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := p.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof", "err", err)
		}
	}()
	log.Info("profiles served", "url", "http://"+l.Addr().String()+"/debug/pprof/")
	return p, nil
}

// addr is the address actually bound.
func (p *profiler) addr() string { return p.l.Addr().String() }

// stop closes the listener and any profile being served.
func (p *profiler) stop() {
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil {
		_ = p.srv.Close()
	}
}
