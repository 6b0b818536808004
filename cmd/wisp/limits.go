package main

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wisp-media/wisp/wish"
)

// limitsConfig is the overload guard's part of the config. Zero disables each guard.
type limitsConfig struct {
	Rate           float64 // POST/PATCH/DELETE per second per client IP (token refill rate)
	Burst          int     // requests a client IP may make at once (bucket size)
	MaxNegotiating int     // POSTs negotiating at the same time, server-wide
	MaxSessions    int     // live WHIP + WHEP sessions (plus those negotiating), server-wide
}

// sweepEvery is how often idle rate-limit buckets are forgotten, so the table stays bounded by
// the number of clients active in the last interval.
const sweepEvery = time.Minute

// limits guards the WHIP and WHEP resources against overload (RFC 9725 §4.6; COMMON-29,
// COMMON-30): a per-IP token bucket on POST, PATCH and DELETE (429 + Retry-After), a cap on POSTs
// negotiating at once and a cap on sessions (503 + Retry-After). It is an echo middleware; pages,
// GET, HEAD and OPTIONS pass untouched.
type limits struct {
	// set at construction
	cfg      limitsConfig
	sessions func() int       // live sessions now
	now      func() time.Time // the clock; tests replace it

	// guarded by mu
	mu          sync.Mutex
	buckets     map[string]*bucket
	lastSweep   time.Time
	negotiating int
}

// bucket is one client IP's token bucket.
type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

func newLimits(cfg limitsConfig, sessions func() int) *limits {
	return &limits{cfg: cfg, sessions: sessions, now: time.Now, buckets: make(map[string]*bucket)}
}

// middleware applies the limits to requests on /whip/ and /whep/.
func (l *limits) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		path := r.URL.Path
		if !strings.HasPrefix(path, "/whip/") && !strings.HasPrefix(path, "/whep/") {
			return next(c)
		}
		switch r.Method {
		case http.MethodPost, http.MethodPatch, http.MethodDelete:
		default:
			return next(c)
		}
		if wait, ok := l.allow(clientIP(r)); !ok {
			c.Set(rejectReasonKey, "rate_limit")
			return reject(c, http.StatusTooManyRequests, "Too Many Requests", "request rate limit; retry later", wait)
		}
		// Only a POST to an endpoint (/whip/{stream}) creates a session.
		if r.Method != http.MethodPost || strings.Count(strings.Trim(path, "/"), "/") != 1 {
			return next(c)
		}
		if err := l.enter(); err != nil {
			c.Set(rejectReasonKey, err.reason)
			return reject(c, http.StatusServiceUnavailable, "Service Unavailable", err.detail, err.retry)
		}
		defer l.leave()
		return next(c)
	}
}

// overload is why enter refused a POST.
type overload struct {
	reason string // for the metrics: negotiating_cap or session_cap
	detail string
	retry  time.Duration
}

// enter counts a POST as negotiating unless a cap is reached.
func (l *limits) enter() *overload {
	live := 0
	if l.cfg.MaxSessions > 0 {
		live = l.sessions() // before taking mu: one lock at a time
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.MaxNegotiating > 0 && l.negotiating >= l.cfg.MaxNegotiating {
		return &overload{"negotiating_cap", "too many sessions negotiating; retry shortly", time.Second}
	}
	if l.cfg.MaxSessions > 0 && l.negotiating+live >= l.cfg.MaxSessions {
		return &overload{"session_cap", "session limit reached; retry later", 5 * time.Second}
	}
	l.negotiating++
	return nil
}

func (l *limits) leave() {
	l.mu.Lock()
	l.negotiating--
	l.mu.Unlock()
}

// allow takes a token from ip's bucket. When it is empty it returns false and how long until the
// next token.
func (l *limits) allow(ip string) (time.Duration, bool) {
	if l.cfg.Rate <= 0 {
		return 0, true
	}
	burst := float64(max(l.cfg.Burst, 1))
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now, burst)
	}
	b, ok := l.buckets[ip]
	if !ok {
		b = &bucket{tokens: burst, at: now}
		l.buckets[ip] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.at).Seconds()*l.cfg.Rate)
	b.at = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / l.cfg.Rate * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}

// sweep forgets buckets that have refilled: they hold nothing a new bucket would not. Under mu.
func (l *limits) sweep(now time.Time, burst float64) {
	for ip, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.cfg.Rate >= burst {
			delete(l.buckets, ip)
		}
	}
	l.lastSweep = now
}

// clientIP is the address of the TCP peer. Forwarded headers are not trusted: a client could
// otherwise pick its own bucket.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// reject writes a problem-details refusal with Retry-After in whole seconds (at least 1).
func reject(c echo.Context, status int, title, detail string, retry time.Duration) error {
	e := wish.Errorf(status, title, "%s", detail)
	e.Header.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
	wish.WriteProblem(c.Response(), e)
	return nil
}
