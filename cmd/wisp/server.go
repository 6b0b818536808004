package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/datarelay"
	"github.com/wisp-media/wisp/metrics"
	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/turn"
	"github.com/wisp-media/wisp/whep"
	"github.com/wisp-media/wisp/whip"
	"github.com/wisp-media/wisp/wish"
)

// server is one running wisp: media sockets, the stream registry, the WHIP and WHEP handlers and
// the HTTP server in front of them.
type server struct {
	cfg      config
	log      *slog.Logger
	ctx      context.Context // sessions live under it
	cancel   context.CancelFunc
	registry *stream.Registry
	whip     *whip.Handler
	whep     *whep.Handler
	limits   *limits
	echo     *echo.Echo
	http     *http.Server
	media    *rtc.Media
	draining atomic.Bool // set once by startDrain: not ready, new sessions refused
	access   *access
	https    *httpsServer // nil: plain HTTP
	metrics  *metrics.Metrics
	metricsL *metrics.Server // the -metrics listener; nil when off
	turn     *turn.Server    // the built-in TURN server; nil when off
	cluster  *clusterNode    // nil: a single node
}

// newServer opens the media sockets and builds everything; serve starts answering HTTP.
func newServer(cfg config, log *slog.Logger) (*server, error) {
	s := &server{cfg: cfg, log: log}
	if cfg.TLS.enabled() {
		h, err := newHTTPS(cfg.TLS, log)
		if err != nil {
			return nil, err
		}
		s.https = h
	}
	if err := s.openMedia(); err != nil {
		s.https.close()
		return nil, err
	}
	apiConfig := rtc.APIConfig{
		UDPMux: s.media.UDP, TCPMux: s.media.TCP, NAT1To1IPs: cfg.PublicIPs, IncludeLoopback: true,
		Logger: log.With("side", "pion"),
	}
	api, err := rtc.NewAPI(apiConfig)
	if err != nil {
		s.closeMedia()
		s.https.close()
		return nil, fmt.Errorf("build webrtc api: %w", err)
	}
	apiConfig.Viewers = true
	viewAPI, err := rtc.NewAPI(apiConfig)
	if err != nil {
		s.closeMedia()
		s.https.close()
		return nil, fmt.Errorf("build webrtc api for viewers: %w", err)
	}
	// Viewers of simulcast streams get send-side bandwidth estimation, which drives their layer.
	var simulcastAPI *webrtc.API
	if cfg.AutoLayers {
		apiConfig.Estimators = rtc.NewEstimators()
		if simulcastAPI, err = rtc.NewAPI(apiConfig); err != nil {
			s.closeMedia()
			s.https.close()
			return nil, fmt.Errorf("build webrtc api for simulcast viewers: %w", err)
		}
	}
	// Pulls by other nodes: a node that dies (kill -9) leaves its pulls here silent; they end
	// after 4 s without a packet rather than a viewer's 20 s (RTCP reports come every second).
	var pullAPI *webrtc.API
	if cfg.Cluster.Redis != "" {
		pullConfig := apiConfig
		pullConfig.Estimators, pullConfig.DisconnectedTimeout, pullConfig.FailedTimeout = nil, 2*time.Second, 2*time.Second
		if pullAPI, err = rtc.NewAPI(pullConfig); err != nil {
			s.closeMedia()
			s.https.close()
			return nil, fmt.Errorf("build webrtc api for pulls: %w", err)
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var egress stream.Egress
	var relayEgress datarelay.Egress
	if cfg.BatchEgress {
		egress = s.media      // a fan-out pass's SRTP leaves the media socket in sendmmsg batches
		relayEgress = s.media // so do the DTLS records of one relayed message to many viewers
	}
	s.registry = stream.NewRegistry(stream.RegistryConfig{
		Relay:  datarelay.Config{Logger: log.With("side", "relay"), Egress: relayEgress},
		Logger: log,
		Egress: egress,
	})
	if s.access, err = newAccess(s.ctx, cfg.Access, log); err != nil {
		s.cancel()
		s.closeMedia()
		return nil, err
	}
	var leases whip.Leaser
	var clusterSide whep.Cluster
	if cfg.Cluster.Redis != "" {
		load := func() int { return s.whip.Len() + s.whep.Len() }
		cfg.Cluster.public = cfg.PublicURL
		if s.cluster, err = newClusterNode(cfg.Cluster, s.registry, load, log); err != nil {
			s.access.close(context.Background())
			s.cancel()
			s.closeMedia()
			return nil, err
		}
		leases, clusterSide = s.cluster, s.cluster
	}
	iceServers := wish.ICEServers{URLs: cfg.ICEServers, Secret: s.cfg.TURNSecret, Builtin: s.builtinTURN()}
	patch := wish.PatchPolicy{LenientIfMatch: cfg.LenientIfMatch, NoRestart: cfg.NoICERestart}
	var observer wish.Observer
	if cfg.Metrics != "" {
		s.metrics = metrics.New(metrics.Config{Source: metricsSource{s}, MaxStreams: cfg.MetricsStreams})
		observer = sessionObserver{s.metrics}
	}
	endpoint := func(keys keyMap, action string) wish.Endpoint {
		return wish.Endpoint{Logger: log, Observer: observer,
			Keys:  wish.Keys{Key: keyFunc(keys), Known: keys.known, Tokens: s.access.tokens, Action: action},
			Admit: s.access.admit, Events: s.access.notifier(),
			ICEServers: iceServers, Patch: patch, BaseURL: cfg.PublicURL, ConnectTimeout: cfg.ConnectTimeout}
	}
	s.whip = whip.NewHandler(s.ctx, whip.Config{API: api, Registry: s.registry,
		Endpoint: endpoint(cfg.PublishKeys, wish.ActionPublish), NoReplace: cfg.NoReplace, Leases: leases})
	s.whep = whep.NewHandler(s.ctx, whep.Config{API: viewAPI, SimulcastAPI: simulcastAPI, PullAPI: pullAPI,
		Estimators: apiConfig.Estimators, Registry: s.registry,
		Endpoint: endpoint(cfg.WatchKeys, wish.ActionWatch), RequirePublisher: cfg.WHEPRequirePublisher,
		Cluster: clusterSide})
	s.limits = newLimits(cfg.Limits, func() int { return s.whip.Len() + s.whep.Len() })
	s.echo = s.routes()
	s.http = &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	if s.metrics != nil {
		if s.metricsL, err = metrics.Serve(cfg.Metrics, s.metrics, log); err != nil {
			_ = s.shutdown(context.Background())
			return nil, err
		}
	}
	s.http.RegisterOnShutdown(s.whep.StopEvents) // event streams must not hold up a graceful shutdown
	s.cluster.start()
	return s, nil
}

func keyFunc(keys keyMap) func(string) (string, bool) {
	if len(keys) == 0 {
		return nil
	}
	return keys.lookup
}

// openMedia opens the one UDP port (and the ICE-TCP port of the same number) for all sessions.
func (s *server) openMedia() error {
	m, err := rtc.OpenMedia(rtc.MediaConfig{Host: s.cfg.ICEHost, Port: s.cfg.UDPPort, TCP: s.cfg.ICETCP, Batch: s.cfg.BatchEgress,
		Logger: s.log.With("side", "pion")})
	if err != nil {
		return err
	}
	s.media = m
	if err := s.startTURN(); err != nil {
		s.closeMedia()
		return err
	}
	return nil
}

// udpPort is the UDP port actually bound (the configured one, or the one chosen for port 0).
func (s *server) udpPort() int { return s.media.Port() }

func (s *server) closeMedia() {
	if s.turn != nil {
		_ = s.turn.Close()
	}
	if s.media != nil {
		st := s.media.EgressStats()
		s.log.Info("media socket sends", "direct", st.Direct, "batched", st.Batched,
			"batch_calls", st.BatchCalls, "batch_failures", st.BatchFailures,
			"relay_windows", st.RelayWindows, "relay_guard_closed", st.RelayGuardClosed)
		s.media.Close()
	}
}

// serve answers HTTP on l until shutdown.
func (s *server) serve(l net.Listener) error {
	serve := s.http.Serve
	if s.https != nil {
		s.http.TLSConfig = s.https.config
		serve = func(l net.Listener) error { return s.http.ServeTLS(l, "", "") }
	}
	if err := serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}

// shutdown stops taking requests, closes every session cleanly (DTLS close_notify to each peer)
// and releases the media sockets, within ctx.
func (s *server) shutdown(ctx context.Context) error {
	s.registry.Close()
	err := s.http.Shutdown(ctx)
	// One session at a time, before the server context is cancelled: pion/ice's UDP mux aborts
	// every in-flight write on the shared socket (a write deadline of now) when one session's
	// write context is cancelled, so sessions closing together could lose each other's DTLS
	// close_notify and leave their peers to time out (TestSIGTERMClosesSessions).
	s.cluster.close() // pulls end before the sessions they feed
	s.whip.Close()
	s.whep.Close()
	s.access.close(ctx) // the stopped events of the sessions just closed, within ctx
	s.cancel()
	s.closeMedia()
	s.https.close()
	s.metricsL.Close()
	return err
}

// corsPolicy is the configured CORS policy.
func (s *server) corsPolicy() wish.CORS { return wish.CORS{Origins: s.cfg.CORSOrigins} }
