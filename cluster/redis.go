package cluster

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Open makes a go-redis UniversalClient from a URL: redis://[user:pass@]host:port/db,
// rediss:// for TLS, or unix:///path/to/socket. A malformed URL is an error (the server refuses to
// start). Timeouts are short (1 s): the directory must answer fast or be treated as away, and a
// lease refresh retries on its own schedule. Sentinel and Cluster deployments use the same client type through NewUniversalClient.
func Open(url string) (redis.UniversalClient, error) {
	if !strings.HasPrefix(url, "redis://") && !strings.HasPrefix(url, "rediss://") && !strings.HasPrefix(url, "unix://") {
		return nil, fmt.Errorf("redis url %q: want redis://host:port/db, rediss:// or unix:///path", url)
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	u := &redis.UniversalOptions{
		Addrs: []string{opts.Addr}, DB: opts.DB, Username: opts.Username, Password: opts.Password,
		TLSConfig: opts.TLSConfig, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
		MaxRetries: 1,
	}
	if opts.Network == "unix" {
		addr := opts.Addr
		u.Dialer = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		}
	}
	return redis.NewUniversalClient(u), nil
}
