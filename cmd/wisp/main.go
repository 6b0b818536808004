// Command wisp is a WebRTC broadcast server: publishers send over WHIP (RFC 9725), viewers watch
// over WHEP, and the publisher's data-channel messages are relayed to every viewer.
//
// Run it with embedded defaults: go run ./cmd/wisp, then open the printed URL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// defaultGCPercent is wisp's GOGC when the environment sets none.
const defaultGCPercent = 50

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "wisp:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	redis.SetLogger(redisLogger{log.With("side", "redis")}) // go-redis prints to stderr otherwise
	if getenv("GOGC") == "" {
		// wisp allocates little once sessions are up, so a tighter heap goal costs about 1 % of a
		// core and saves about 0.1 MB per viewer (docs/benchmarks.md). GOGC overrides it.
		debug.SetGCPercent(defaultGCPercent)
	}

	srv, err := newServer(cfg, log)
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	l, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		_ = srv.shutdown(context.Background())
		log.Error("start", "err", fmt.Errorf("listen http %s: %w", cfg.HTTP, err))
		return 1
	}
	announce(stdout, log, cfg, srv.https, l.Addr(), srv.udpPort())
	var prof *profiler
	if cfg.Pprof != "" {
		if prof, err = startProfiler(cfg.Pprof, log); err != nil {
			_ = l.Close()
			_ = srv.shutdown(context.Background())
			log.Error("start", "err", err)
			return 1
		}
		defer prof.stop()
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	served := make(chan error, 1)
	go func() { served <- srv.serve(l) }()
	select {
	case err = <-served:
	case sig := <-sigs:
		log.Info("shutting down", "signal", sig.String())
		if cfg.DrainTimeout > 0 {
			err = srv.drain(cfg.DrainTimeout, sigs, served)
		}
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := srv.shutdown(shutCtx); err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		log.Error("stopped", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// newLogger is the server's logger: text or JSON lines on w from cfg.LogLevel up.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// announce prints where to point a browser, and says whether publishing is open.
// With HTTPS the URLs are https:// on a name the certificate covers.
func announce(w io.Writer, log *slog.Logger, cfg config, https *httpsServer, addr net.Addr, udpPort int) {
	scheme, host := "http", "localhost"
	if a, ok := addr.(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		host = a.IP.String()
	}
	if https != nil {
		scheme = "https"
		if https.host != "" {
			host = https.host
		}
	}
	port := addr.(*net.TCPAddr).Port
	base := fmt.Sprintf("%s://%s:%d", scheme, host, port)
	fmt.Fprintf(w, "wisp is running: open %s/\n", base)
	fmt.Fprintf(w, "  publish: %s/publish/demo   watch: %s/watch/demo\n", base, base)
	fmt.Fprintf(w, "  WHIP:    %s/whip/{stream}  WHEP: %s/whep/{stream}\n", base, base)
	log.Info("listening", scheme, addr.String(), "media_udp", udpPort, "ice_tcp", cfg.ICETCP, "public_ips", cfg.PublicIPs)
	if len(cfg.PublishKeys) == 0 && cfg.Access.JWTSecret == "" && cfg.Access.JWKSURL == "" && cfg.Access.AuthWebhook == "" {
		log.Warn("publishing is open: no publish key, token key or auth webhook is configured (set -publish-key STREAM=KEY or WISP_PUBLISH_KEYS)")
	} else {
		log.Info("publish keys configured", "streams", len(cfg.PublishKeys))
	}
}
