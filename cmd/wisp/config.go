package main

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wisp-media/wisp/stream"
)

// config is every setting of the server in one typed struct, read once here (flags, then the
// WISP_* environment as fallback, then an optional keys file) and validated once.
type config struct {
	HTTP        string     // listen address of the HTTP server
	UDPPort     int        // the one UDP port for all media (ICE UDP mux); ICE-TCP uses the same number
	ICEHost     string     // bind media sockets to this IP only ("" = every interface)
	ICETCP      bool       // also offer ICE-TCP candidates
	PublicIPs   []string   // NAT 1:1 addresses announced as host candidates
	PublicURL   string     // scheme://host for Location headers ("" = from the request)
	LogLevel    slog.Level // debug, info, warn, error
	PublishKeys keyMap     // stream → key; "*" applies to every stream without its own
	WatchKeys   keyMap
	CORSOrigins []string // allowed origins ("*" = any)
	ICEServers  []string // stun:/turn:/turns: URIs announced in Link headers
	TURNSecret  string   // TURN REST shared secret: expiring credentials in the Links
	// LenientIfMatch accepts a PATCH without If-Match (else 428); NoICERestart refuses restarts (422).
	LenientIfMatch, NoICERestart bool
	// WHEPRequirePublisher answers viewers of an idle stream 409 + Retry-After (else they wait).
	WHEPRequirePublisher bool
	// NoReplace answers a second publisher of a live stream 409 instead of replacing the first.
	NoReplace bool
	Limits    limitsConfig // overload guards (limits.go); zero values switch a guard off
	// ConnectTimeout reaps a session whose connection does not come up (COMMON-19); 0 = 15 s.
	ConnectTimeout time.Duration
	// Pprof is the listen address of the runtime profiles ("" = off); see pprof.go.
	Pprof string
}

// keyMap maps a stream name (or "*") to its bearer key.
type keyMap map[string]string

// lookup returns the key of a stream, falling back to "*".
func (k keyMap) lookup(name string) (string, bool) {
	if key, ok := k[name]; ok {
		return key, true
	}
	key, ok := k["*"]
	return key, ok
}

// known reports whether token is the key of some stream (constant time per key), so a key for
// another stream gets 403 rather than 401.
func (k keyMap) known(token string) bool {
	found := false
	for _, key := range k {
		if subtle.ConstantTimeCompare([]byte(token), []byte(key)) == 1 {
			found = true
		}
	}
	return found
}

// parseConfig reads args (without the program name) and the environment through getenv.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("wisp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	httpAddr := fs.String("http", env("WISP_HTTP", ":8080"), "HTTP listen address (env WISP_HTTP)")
	udpPort := fs.String("udp-port", env("WISP_UDP_PORT", "8189"), "UDP port for all WebRTC media; ICE-TCP uses the same number (env WISP_UDP_PORT)")
	iceHost := fs.String("ice-host", env("WISP_ICE_HOST", ""), "bind media sockets to this IP only; empty = all interfaces (env WISP_ICE_HOST)")
	iceTCP := fs.String("ice-tcp", env("WISP_ICE_TCP", "true"), "offer ICE-TCP candidates as a fallback (env WISP_ICE_TCP)")
	publicURL := fs.String("public-url", env("WISP_PUBLIC_URL", ""), "public base URL for Location headers, e.g. https://live.example.com (env WISP_PUBLIC_URL)")
	logLevel := fs.String("log-level", env("WISP_LOG_LEVEL", "info"), "debug, info, warn or error (env WISP_LOG_LEVEL)")
	keysFile := fs.String("keys-file", env("WISP_KEYS_FILE", ""), "file of 'publish|watch STREAM KEY' lines (env WISP_KEYS_FILE)")
	cors := fs.String("cors-origins", env("WISP_CORS_ORIGINS", "*"), "comma list of allowed CORS origins, * for any (env WISP_CORS_ORIGINS)")
	turnSecret := fs.String("turn-secret", env("WISP_TURN_SECRET", ""), "TURN shared secret: Link headers carry credentials valid for 1 h (env WISP_TURN_SECRET)")
	lenient := fs.String("lenient-if-match", env("WISP_LENIENT_IF_MATCH", "true"), "accept a trickle PATCH without If-Match (Medooze's WHEP client sends none); false answers 428 (env WISP_LENIENT_IF_MATCH)")
	iceRestart := fs.String("ice-restart", env("WISP_ICE_RESTART", "true"), "accept ICE restarts by PATCH; false answers 422 (env WISP_ICE_RESTART)")
	replacePub := fs.String("replace-publisher", env("WISP_REPLACE_PUBLISHER", "true"), "a new publisher with the right key replaces a live one (OBS reconnects so); false answers 409 (env WISP_REPLACE_PUBLISHER)")
	requirePub := fs.String("whep-require-publisher", env("WISP_WHEP_REQUIRE_PUBLISHER", "false"), "answer viewers of an idle stream 409 + Retry-After instead of letting them wait (env WISP_WHEP_REQUIRE_PUBLISHER)")
	var iceServers listFlag
	iceServers.setDefault(getenv("WISP_ICE_SERVERS"))
	fs.Var(&iceServers, "ice-server", "stun:/turn:/turns: URI announced to clients in Link headers; repeatable or comma list (env WISP_ICE_SERVERS)")
	rate := fs.String("rate-limit", env("WISP_RATE_LIMIT", "5"), "POST/PATCH/DELETE per second per client IP, 0 = off; over it 429 (env WISP_RATE_LIMIT)")
	burst := fs.String("rate-burst", env("WISP_RATE_BURST", "20"), "requests a client IP may make at once (env WISP_RATE_BURST)")
	maxNeg := fs.String("max-negotiating", env("WISP_MAX_NEGOTIATING", "32"), "POSTs negotiating at once, 0 = no cap; over it 503 (env WISP_MAX_NEGOTIATING)")
	maxSess := fs.String("max-sessions", env("WISP_MAX_SESSIONS", "2000"), "live WHIP+WHEP sessions, 0 = no cap; over it 503 (env WISP_MAX_SESSIONS)")
	pprofAddr := fs.String("pprof", env("WISP_PPROF", ""), "serve Go runtime profiles (/debug/pprof/) on this host:port, e.g. 127.0.0.1:6060; empty = off (env WISP_PPROF)")
	connectTimeout := fs.String("connect-timeout", env("WISP_CONNECT_TIMEOUT", "15s"), "end a session whose connection is not up within this time (env WISP_CONNECT_TIMEOUT)")
	var publicIPs listFlag
	publishKeys, watchKeys := listFlag{secret: true}, listFlag{secret: true}
	publicIPs.setDefault(getenv("WISP_PUBLIC_IP"))
	publishKeys.setDefault(getenv("WISP_PUBLISH_KEYS"))
	watchKeys.setDefault(getenv("WISP_WATCH_KEYS"))
	fs.Var(&publicIPs, "public-ip", "public IP announced as host candidate (NAT 1:1); repeatable or comma list (env WISP_PUBLIC_IP)")
	fs.Var(&publishKeys, "publish-key", "STREAM=KEY requiring 'Authorization: Bearer KEY' to publish; * for all streams; repeatable (env WISP_PUBLISH_KEYS, comma list)")
	fs.Var(&watchKeys, "watch-key", "STREAM=KEY requiring a bearer key to watch; repeatable (env WISP_WATCH_KEYS)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	c := config{HTTP: *httpAddr, ICEHost: *iceHost, PublicURL: strings.TrimRight(*publicURL, "/"),
		PublishKeys: keyMap{}, WatchKeys: keyMap{}, CORSOrigins: splitList(*cors)}
	var err error
	if c.UDPPort, err = strconv.Atoi(*udpPort); err != nil || c.UDPPort < 1 || c.UDPPort > 65535 {
		return config{}, fmt.Errorf("-udp-port: %q is not a port number 1-65535", *udpPort)
	}
	if c.Limits, err = parseLimits(*rate, *burst, *maxNeg, *maxSess); err != nil {
		return config{}, err
	}
	if c.ConnectTimeout, err = time.ParseDuration(*connectTimeout); err != nil || c.ConnectTimeout <= 0 {
		return config{}, fmt.Errorf("-connect-timeout: %q is not a positive duration", *connectTimeout)
	}
	if c.ICETCP, err = strconv.ParseBool(*iceTCP); err != nil {
		return config{}, fmt.Errorf("-ice-tcp: %q is not true or false", *iceTCP)
	}
	if err := c.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return config{}, fmt.Errorf("-log-level: %q is not debug, info, warn or error", *logLevel)
	}
	if _, _, err := net.SplitHostPort(c.HTTP); err != nil {
		return config{}, fmt.Errorf("-http: %q is not host:port: %w", c.HTTP, err)
	}
	if c.Pprof = *pprofAddr; c.Pprof != "" {
		if _, _, err := net.SplitHostPort(c.Pprof); err != nil {
			return config{}, fmt.Errorf("-pprof: %q is not host:port: %w", c.Pprof, err)
		}
	}
	if c.ICEHost != "" && net.ParseIP(c.ICEHost).To4() == nil {
		return config{}, fmt.Errorf("-ice-host: %q is not an IPv4 address", c.ICEHost)
	}
	for _, ip := range publicIPs.values {
		if net.ParseIP(ip).To4() == nil {
			return config{}, fmt.Errorf("-public-ip: %q is not an IPv4 address", ip)
		}
	}
	c.PublicIPs = publicIPs.values
	for _, u := range iceServers.values {
		scheme, _, _ := strings.Cut(strings.ToLower(u), ":")
		if (scheme != "stun" && scheme != "turn" && scheme != "turns" && scheme != "stuns") || strings.ContainsAny(u, "<>\" ,;") {
			return config{}, fmt.Errorf("-ice-server: %q is not a stun:, stuns:, turn: or turns: URI", u)
		}
	}
	c.ICEServers, c.TURNSecret = iceServers.values, *turnSecret
	if c.LenientIfMatch, err = strconv.ParseBool(*lenient); err != nil {
		return config{}, fmt.Errorf("-lenient-if-match: %q is not true or false", *lenient)
	}
	restart, err := strconv.ParseBool(*iceRestart)
	if err != nil {
		return config{}, fmt.Errorf("-ice-restart: %q is not true or false", *iceRestart)
	}
	c.NoICERestart = !restart
	replace, err := strconv.ParseBool(*replacePub)
	if err != nil {
		return config{}, fmt.Errorf("-replace-publisher: %q is not true or false", *replacePub)
	}
	c.NoReplace = !replace
	if c.WHEPRequirePublisher, err = strconv.ParseBool(*requirePub); err != nil {
		return config{}, fmt.Errorf("-whep-require-publisher: %q is not true or false", *requirePub)
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		return config{}, fmt.Errorf("-public-url: %q must start with http:// or https://", c.PublicURL)
	}
	if err := c.PublishKeys.add("-publish-key", publishKeys.values); err != nil {
		return config{}, err
	}
	if err := c.WatchKeys.add("-watch-key", watchKeys.values); err != nil {
		return config{}, err
	}
	if *keysFile != "" {
		if err := c.readKeysFile(*keysFile); err != nil {
			return config{}, err
		}
	}
	return c, nil
}

// parseLimits reads the overload guard settings: a rate ≥ 0 and counts ≥ 0.
func parseLimits(rate, burst, maxNeg, maxSess string) (limitsConfig, error) {
	var l limitsConfig
	var err error
	if l.Rate, err = strconv.ParseFloat(rate, 64); err != nil || l.Rate < 0 || math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0) {
		return l, fmt.Errorf("-rate-limit: %q is not a rate ≥ 0", rate)
	}
	for _, f := range []struct {
		name, v string
		dst     *int
	}{{"-rate-burst", burst, &l.Burst}, {"-max-negotiating", maxNeg, &l.MaxNegotiating}, {"-max-sessions", maxSess, &l.MaxSessions}} {
		if *f.dst, err = strconv.Atoi(f.v); err != nil || *f.dst < 0 {
			return l, fmt.Errorf("%s: %q is not a count ≥ 0", f.name, f.v)
		}
	}
	return l, nil
}

func (k keyMap) add(flagName string, pairs []string) error {
	for _, pair := range pairs {
		name, key, ok := strings.Cut(pair, "=")
		if err := validKey(name, key); !ok || err != nil {
			return fmt.Errorf("%s: %q must be STREAM=KEY with a valid stream name (or *) and a non-empty key", flagName, redact(pair))
		}
		k[name] = key
	}
	return nil
}

func validKey(name, key string) error {
	if key == "" || strings.ContainsAny(key, " \t\r\n") {
		return errors.New("bad key")
	}
	if name == "*" {
		return nil
	}
	return stream.ValidateName(name)
}

// readKeysFile reads lines "publish STREAM KEY" or "watch STREAM KEY"; # starts a comment.
func (c *config) readKeysFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("-keys-file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 || validKey(fields[1], fields[2]) != nil {
			return fmt.Errorf("-keys-file %s:%d: want 'publish|watch STREAM KEY'", path, n)
		}
		switch fields[0] {
		case "publish":
			c.PublishKeys[fields[1]] = fields[2]
		case "watch":
			c.WatchKeys[fields[1]] = fields[2]
		default:
			return fmt.Errorf("-keys-file %s:%d: %q is not publish or watch", path, n, fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("-keys-file: %w", err)
	}
	return nil
}

// redact hides the key of a STREAM=KEY pair in messages: keys are never logged.
func redact(pair string) string {
	if name, _, ok := strings.Cut(pair, "="); ok {
		return name + "=…"
	}
	return "…"
}

// listFlag is a repeatable flag whose values may also be comma lists; the environment's value is
// the default, replaced by the first use on the command line.
type listFlag struct {
	values []string
	set    bool
	secret bool // holds keys: never shown in usage text
}

func (l *listFlag) setDefault(v string) { l.values = splitList(v) }

func (l *listFlag) String() string {
	if l.secret {
		return ""
	}
	return strings.Join(l.values, ",")
}

func (l *listFlag) Set(v string) error {
	if !l.set {
		l.values, l.set = nil, true
	}
	l.values = append(l.values, splitList(v)...)
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
