package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/wisp-media/wisp/wish"
)

// Defaults of Config.
const (
	DefaultRefresh     = 5 * time.Minute  // JWKS refetched this often
	DefaultUnknownKID  = 10 * time.Second // at most one refetch for unknown key ids this often
	DefaultHTTPTimeout = 5 * time.Second  // one JWKS fetch
	leeway             = 5 * time.Second  // clock skew allowed on exp and nbf
	unknownKIDFetch    = 2 * time.Second  // bound of a refetch for an unknown key id, in a request
)

// Config says where keys come from. At least one of Secret and JWKSURL is set.
type Config struct {
	// Secret is the HS256 shared secret.
	Secret []byte
	// JWKSURL serves the RS256/ES256 public keys as a JWK Set (RFC 7517).
	JWKSURL string
	// Refresh is how often the JWK Set is refetched (default DefaultRefresh).
	Refresh time.Duration
	// Client fetches the JWK Set (nil: a client with DefaultHTTPTimeout).
	Client *http.Client
	// Logger hears of failed JWKS fetches (never of tokens).
	Logger *slog.Logger
}

// Claims are the claims wisp reads: exp is required; stream is a stream name or "*" for any;
// action is "publish" or "watch".
type Claims struct {
	jwt.RegisteredClaims
	Stream string `json:"stream"`
	Action string `json:"action"`
}

// Verifier checks tokens against the configured keys; it is safe for concurrent use.
type Verifier struct {
	secret []byte
	jwks   keyfunc.Keyfunc // nil without JWKSURL
	parser *jwt.Parser
}

// New returns a Verifier. With a JWKSURL it fetches the keys once (a failure is logged, and tokens
// fail until a later fetch succeeds) and refreshes them until ctx ends.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	v := &Verifier{secret: cfg.Secret}
	var methods []string
	if len(cfg.Secret) > 0 {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.JWKSURL != "" {
		kf, err := newJWKS(ctx, cfg)
		if err != nil {
			return nil, err
		}
		v.jwks = kf
		methods = append(methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}
	if len(methods) == 0 {
		return nil, errors.New("token: neither a secret nor a JWKS URL is configured")
	}
	v.parser = jwt.NewParser(jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(leeway))
	return v, nil
}

func newJWKS(ctx context.Context, cfg Config) (keyfunc.Keyfunc, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	refresh := cfg.Refresh
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		Client:          client,
		HTTPTimeout:     DefaultHTTPTimeout,
		RefreshInterval: refresh,
		// A token naming an unknown key id refetches the set (a rotation), at most this often.
		// RateLimitWaitMax bounds that refetch too, not only the limiter: the limiter never waits
		// (it fails at once when the wait would pass the bound), the fetch takes what it needs.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(DefaultUnknownKID), 1),
		RateLimitWaitMax:  unknownKIDFetch,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) { log.Warn("jwks fetch failed", "url", u, "err", err) }
		},
	})
	if err != nil {
		return nil, fmt.Errorf("token: jwks %s: %w", cfg.JWKSURL, err)
	}
	return kf, nil
}

// Verify implements wish.TokenVerifier: nil when raw is genuine, unexpired and grants action on
// stream; wish.ErrNotGranted (wrapped) when it is genuine but grants something else.
func (v *Verifier) Verify(ctx context.Context, raw, action, stream string) error {
	var c Claims
	if _, err := v.parser.ParseWithClaims(raw, &c, v.key(ctx)); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if c.Action != action {
		return fmt.Errorf("token: action %q: %w", c.Action, wish.ErrNotGranted)
	}
	if c.Stream != stream && c.Stream != "*" {
		return fmt.Errorf("token: stream %q: %w", c.Stream, wish.ErrNotGranted)
	}
	return nil
}

// key picks the verification key by algorithm: the secret for HS256, the JWK Set otherwise (the
// parser has already refused any algorithm not configured).
func (v *Verifier) key(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if t.Method.Alg() == jwt.SigningMethodHS256.Alg() {
			return v.secret, nil
		}
		if v.jwks == nil {
			return nil, errors.New("no JWKS configured")
		}
		return v.jwks.KeyfuncCtx(ctx)(t)
	}
}
