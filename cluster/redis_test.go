package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a private redis-server the test starts on a unix socket (nothing persisted),
// and may stop and start again empty, as after a crash.
type redisServer struct {
	t    *testing.T
	sock string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed (make test installs it: interop/deps.sh)")
	}
	dir, err := os.MkdirTemp("", "wr") // short: a unix socket path has a 108-byte limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r := &redisServer{t: t, sock: filepath.Join(dir, "r.sock")}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) url() string { return "unix://" + r.sock }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", "0", "--unixsocket", r.sock, "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c, err := Open(r.url())
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	for i := 0; ; i++ {
		if err := c.Ping(context.Background()).Err(); err == nil {
			return
		}
		if i == 100 {
			r.t.Fatal("redis-server did not answer")
		}
		time.Sleep(50 * time.Millisecond) // polling a starting process, bounded above
	}
}

func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	_ = os.Remove(r.sock)
	r.cmd = nil
}

// client opens a client the test closes.
func (r *redisServer) client(t *testing.T) redis.UniversalClient {
	c, err := Open(r.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond until it holds or the bound (a number of lease TTLs, not a speed) passes.
func waitFor(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "localhost:6379", "http://x", "redis://[::1"} {
		if _, err := Open(u); err == nil {
			t.Errorf("Open(%q) accepted", u)
		}
	}
	c, err := Open("redis://127.0.0.1:6379/2")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
