package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
)

// config is every setting of the server in one typed struct, read once here (flags, then the
// WISP_* environment as fallback, then an optional keys file) and validated once.
type config struct {
	HTTP        string     // listen address of the HTTP server
	UDPPort     int        // the one UDP port for all media (ICE UDP mux); ICE-TCP uses the same number
	ICEHost     string     // bind media sockets to this IP only ("" = every interface)
	ICETCP      bool       // also offer ICE-TCP candidates
	BatchEgress bool       // send each fan-out pass's SRTP in sendmmsg batches (rtc egress)
	PublicIPs   []string   // NAT 1:1 addresses announced as host candidates
	PublicURL   string     // scheme://host for Location headers ("" = from the request)
	LogLevel    slog.Level // debug, info, warn, error
	LogFormat   string     // text or json
	PublishKeys keyMap     // stream → key; "*" applies to every stream without its own
	WatchKeys   keyMap
	CORSOrigins []string // allowed origins ("*" = any)
	ICEServers  []string // stun:/turn:/turns: URIs announced in Link headers
	TURNSecret  string   // TURN REST shared secret: expiring credentials in the Links
	// LenientIfMatch accepts a PATCH without If-Match (else 428); NoICERestart refuses restarts (422).
	LenientIfMatch, NoICERestart bool
	// WHEPRequirePublisher answers viewers of an idle stream 409 + Retry-After (else they wait).
	WHEPRequirePublisher bool
	// AutoLayers turns the automatic per-viewer layer choice on (issue 12; on by default): viewers
	// of a simulcast stream get the layer their own bandwidth estimate carries. Off, they get the
	// stream-wide layer unless they choose one.
	AutoLayers bool
	// NoReplace answers a second publisher of a live stream 409 instead of replacing the first.
	NoReplace bool
	Limits    limitsConfig // overload guards (limits.go); zero values switch a guard off
	// ConnectTimeout reaps a session whose connection does not come up (COMMON-19); 0 = 15 s.
	ConnectTimeout time.Duration
	// DrainTimeout is how long live sessions may go on after SIGTERM (0 = close them at once).
	DrainTimeout time.Duration
	TLS          tlsConfig // HTTPS: certificate files or ACME (tls.go); neither = plain HTTP
	// Metrics is the listen address of /metrics ("" = off); MetricsStreams caps {stream} series.
	Metrics        string
	MetricsStreams int
	// Pprof is the listen address of the runtime profiles ("" = off); see pprof.go.
	Pprof   string
	Access  accessConfig  // signed tokens and webhooks (access.go)
	TURN    turnConfig    // the built-in TURN server (turn.go)
	Cluster clusterConfig // several nodes as one service (cluster.go); off without -redis
}

// settings declares every setting of the server, each bound to the config field it fills; the
// README's settings table lists the same flags, environment variables and defaults
// (TestREADMEListsEverySetting).
func (c *config) settings(r *rawConfig) []setting {
	return []setting{
		hostPort(&c.HTTP, "http", ":8080", "HTTP listen address", false),
		count(&c.UDPPort, "udp-port", "8189", "UDP port for all WebRTC media; ICE-TCP uses the same number", 1, 65535),
		optionalIPv4(&c.ICEHost, "ice-host", "bind media sockets to this IPv4 address only; empty = all interfaces"),
		boolean(&c.ICETCP, "ice-tcp", "true", "offer ICE-TCP candidates as a fallback", false),
		boolean(&c.BatchEgress, "batch-egress", "true", "send each fan-out pass's media and the data channels' DTLS records in sendmmsg batches (fewer syscalls; Linux)", false),
		list(&c.PublicIPs, "public-ip", "public IP announced as host candidate (NAT 1:1); repeatable or comma list", ipv4),
		baseURL(&c.PublicURL, "public-url", "public base URL for Location headers, e.g. https://live.example.com"),
		logLevel(&c.LogLevel, "log-level", "info", "debug, info, warn or error"),
		choice(&c.LogFormat, "log-format", "text", "log lines as text (key=value) or json (one object a line)", "text", "json"),
		secretList(&r.publishKeys, "publish-key", "STREAM=KEY requiring 'Authorization: Bearer KEY' to publish; * for all streams; repeatable or comma list").withEnv("WISP_PUBLISH_KEYS"),
		secretList(&r.watchKeys, "watch-key", "STREAM=KEY requiring a bearer key to watch; repeatable or comma list").withEnv("WISP_WATCH_KEYS"),
		text(&r.keysFile, "keys-file", "", "file of 'publish|watch STREAM KEY' lines"),
		list(&c.CORSOrigins, "cors-origins", "comma list of allowed CORS origins, * for any", nil).withDefault("*"),
		list(&c.ICEServers, "ice-server", "stun:/turn:/turns: URI announced to clients in Link headers; repeatable or comma list", iceServerURI).withEnv("WISP_ICE_SERVERS"),
		secretText(&c.TURNSecret, "turn-secret", "TURN shared secret: Link headers carry credentials valid for 1 h"),
		boolean(&c.LenientIfMatch, "lenient-if-match", "true", "accept a trickle PATCH without If-Match (Medooze's WHEP client sends none); false answers 428", false),
		boolean(&c.NoICERestart, "ice-restart", "true", "accept ICE restarts by PATCH; false answers 422", true),
		boolean(&c.NoReplace, "replace-publisher", "true", "a new publisher with the right key replaces a live one (OBS reconnects so); false answers 409", true),
		boolean(&c.WHEPRequirePublisher, "whep-require-publisher", "false", "answer viewers of an idle stream 409 + Retry-After instead of letting them wait", false),
		boolean(&c.AutoLayers, "auto-layers", "true", "each viewer of a simulcast stream gets the layer its own bandwidth estimate carries; false forwards the stream-wide layer unless the player chooses one", false),
		rate(&c.Limits.Rate, "rate-limit", "5", "POST/PATCH/DELETE per second per client IP, 0 = off; over it 429"),
		count(&c.Limits.Burst, "rate-burst", "20", "requests a client IP may make at once", 0, 0),
		count(&c.Limits.MaxNegotiating, "max-negotiating", "32", "POSTs negotiating at once, 0 = no cap; over it 503", 0, 0),
		count(&c.Limits.MaxSessions, "max-sessions", "2000", "live WHIP+WHEP sessions, 0 = no cap; over it 503", 0, 0),
		text(&c.TLS.CertFile, "tls-cert", "", "PEM certificate chain: serve HTTPS; a renewed file is picked up for new connections"),
		text(&c.TLS.KeyFile, "tls-key", "", "PEM private key of -tls-cert"),
		list(&c.TLS.ACMEDomains, "acme-domain", "get certificates by ACME for this name (TLS-ALPN-01 on the HTTPS listener); repeatable or comma list", domainName),
		text(&c.TLS.ACMECache, "acme-cache", "", "directory keeping the ACME account and certificates (required with -acme-domain)"),
		baseURL(&c.TLS.ACMEDirectory, "acme-directory", "ACME directory URL of the CA").withDefault(acme.LetsEncryptURL),
		hostPort(&c.TLS.ACMEHTTP, "acme-http", "", "also answer ACME HTTP-01 challenges on this host:port (port 80 as the CA sees it); empty = off", true),
		listenOrOff(&c.Metrics, "metrics", "127.0.0.1:9464", "serve Prometheus metrics (/metrics) on this host:port; off = none"),
		count(&c.MetricsStreams, "metrics-streams", "100", "live streams with their own {stream} metric series; the rest add up under stream=\"_other\"", 1, 0),
		hostPort(&c.Pprof, "pprof", "", "serve Go runtime profiles (/debug/pprof/) on this host:port, e.g. 127.0.0.1:6060; empty = off", true),
		duration(&c.ConnectTimeout, "connect-timeout", "15s", "end a session whose connection is not up within this time", false),
		duration(&c.DrainTimeout, "drain-timeout", "0s", "after SIGTERM: not ready, new sessions refused (503), live sessions go on up to this long; 0 = close at once", true),
		switchOn(&c.TURN.Enabled, "turn", "run the built-in TURN server (UDP and TCP on -turn-addr), announced in the ice-server Links; relays only to wisp's media address"),
		hostPort(&c.TURN.Addr, "turn-addr", ":3478", "UDP and TCP listen address of the built-in TURN server", false),
		hostPort(&c.TURN.TLS, "turn-tls", "", "also serve TURN over TLS on this host:port (e.g. :5349 or :443), with wisp's HTTPS certificate; empty = off", true),
		secretText(&c.Access.JWTSecret, "jwt-secret", "HS256 secret of signed tokens (JWT) accepted for publishing and watching"),
		httpURL(&c.Access.JWKSURL, "jwks-url", "URL of a JWK Set whose RS256/ES256 keys sign tokens; fetched at start, refreshed"),
		httpURL(&c.Access.AuthWebhook, "auth-webhook", "URL asked (JSON POST) before every WHIP/WHEP POST; 2xx admits, 4xx refuses, no answer refuses with 503"),
		duration(&c.Access.AuthWebhookTimeout, "auth-webhook-timeout", "2s", "how long the auth webhook may take", false),
		httpURL(&c.Access.EventWebhook, "event-webhook", "URL told (JSON POST) when a publisher starts and stops; retried, never blocks media"),
		text(&c.Cluster.Redis, "redis", "", "redis://host:6379/0 (or rediss://, unix:///path): run as one node of a cluster with this Redis as its directory; empty = a single node").withEnv("WISP_REDIS_URL"),
		httpURL(&c.Cluster.NodeURL, "node-url", "this node's internal base URL, where other nodes pull streams from (required with -redis)"),
		text(&c.Cluster.NodeID, "node-id", "", "this node's id in the cluster; empty = the host:port of -node-url"),
		secretText(&c.Cluster.Secret, "cluster-secret", "shared secret (16 bytes or more) signing node-to-node pull tokens (required with -redis)"),
		duration(&c.Cluster.LeaseTTL, "cluster-lease-ttl", "10s", "how long a stream's ownership lives without a refresh: a frozen node stops forwarding after it, a dead node's streams move after it", false),
		boolean(&c.Cluster.Redirect, "cluster-redirect", "false", "answer a viewer's POST with 307 to the cluster node with the fewest sessions (never a publisher's)", false),
		duration(&c.Cluster.PullIdle, "cluster-pull-idle", "30s", "how long a pull of a stream from another node outlives its last viewer here", false),
	}
}

// rawConfig holds the key settings, understood together (flags, environment and a keys file).
type rawConfig struct {
	publishKeys, watchKeys []string
	keysFile               string
}

// parseConfig reads args (without the program name) and the environment through getenv: each
// setting's flag, else its environment variable, else its default; then checks them.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("wisp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var r rawConfig
	decls := c.settings(&r)
	values := make([]*value, len(decls))
	for i, s := range decls {
		values[i] = s.register(fs, getenv)
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	for _, v := range values {
		if err := v.s.apply(v.values); err != nil {
			return config{}, err
		}
	}
	if err := c.finish(r); err != nil {
		return config{}, err
	}
	return c, nil
}

// finish builds the key maps from the key settings and the keys file.
func (c *config) finish(r rawConfig) error {
	c.PublishKeys, c.WatchKeys = keyMap{}, keyMap{}
	if err := c.PublishKeys.add("-publish-key", r.publishKeys); err != nil {
		return err
	}
	if err := c.WatchKeys.add("-watch-key", r.watchKeys); err != nil {
		return err
	}
	if err := c.TLS.check(); err != nil {
		return err
	}
	if err := c.TURN.check(c.TLS); err != nil {
		return err
	}
	if err := c.Cluster.check(); err != nil {
		return err
	}
	if r.keysFile != "" {
		return c.readKeysFile(r.keysFile)
	}
	return nil
}

// domainName checks one -acme-domain item: a DNS name, not an IP address or a wildcard.
func domainName(d string) string {
	if net.ParseIP(d) != nil || strings.ContainsAny(d, "*/: ") || !strings.Contains(d, ".") && d != "localhost" {
		return "is not a DNS name (ACME certifies names; no wildcards, no IP addresses)"
	}
	return ""
}

// iceServerURI checks one -ice-server item.
func iceServerURI(u string) string {
	scheme, _, _ := strings.Cut(strings.ToLower(u), ":")
	if (scheme != "stun" && scheme != "turn" && scheme != "turns" && scheme != "stuns") || strings.ContainsAny(u, "<>\" ,;") {
		return "is not a stun:, stuns:, turn: or turns: URI"
	}
	return ""
}
