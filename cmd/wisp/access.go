package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wisp-media/wisp/token"
	"github.com/wisp-media/wisp/webhook"
	"github.com/wisp-media/wisp/wish"
)

// accessConfig is who may publish and watch beyond the static keys, and who hears of streams.
type accessConfig struct {
	JWTSecret          string        // HS256 secret of signed tokens ("" = none)
	JWKSURL            string        // JWK Set of RS256/ES256 token keys ("" = none)
	AuthWebhook        string        // asked before every POST ("" = none)
	AuthWebhookTimeout time.Duration // bound of one auth webhook call
	EventWebhook       string        // told of publishers starting and stopping ("" = none)
}

// access is what the access settings build: the token verifier, the auth hook and the event
// sender, each nil when not configured.
type access struct {
	tokens wish.TokenVerifier
	admit  wish.Admitter
	events *webhook.Events
}

// newAccess builds the access parts. ctx ends the JWKS refresh.
func newAccess(ctx context.Context, cfg accessConfig, log *slog.Logger) (*access, error) {
	a := &access{}
	if cfg.JWTSecret != "" || cfg.JWKSURL != "" {
		v, err := token.New(ctx, token.Config{Secret: []byte(cfg.JWTSecret), JWKSURL: cfg.JWKSURL, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("signed tokens: %w", err)
		}
		a.tokens = v
	}
	if cfg.AuthWebhook != "" {
		a.admit = webhook.Auth{URL: cfg.AuthWebhook, Timeout: cfg.AuthWebhookTimeout}
	}
	if cfg.EventWebhook != "" {
		a.events = webhook.NewEvents(webhook.EventsConfig{URL: cfg.EventWebhook, Logger: log})
	}
	return a, nil
}

// notifier is the event sender as a wish.Notifier (nil when there is none).
func (a *access) notifier() wish.Notifier {
	if a.events == nil {
		return nil
	}
	return a.events
}

// close delivers the queued events within ctx and stops the sender.
func (a *access) close(ctx context.Context) {
	if a.events != nil {
		a.events.Close(ctx)
	}
}
