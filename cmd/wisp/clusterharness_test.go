package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wisp-media/wisp/cluster"
)

// The cluster tests run real processes: one redis-server the test owns (on a unix socket,
// nothing persisted) and wisp nodes built once, each on its own loopback address
// (127.0.0.2, .3, .4: Linux routes all of 127/8 to lo) with its own HTTP and UDP ports.

// clusterSecret is the nodes' -cluster-secret.
const clusterSecret = "test-cluster-secret-0123456789"

// clusterLeaseTTL is the nodes' -cluster-lease-ttl: short, so failures play out in seconds.
const clusterLeaseTTL = 2 * time.Second

var (
	clusterBinOnce sync.Once
	clusterBin     string
	clusterBinErr  error
)

// clusterBinary builds the wisp binary once for every cluster test of the run.
func clusterBinary(t *testing.T) string {
	t.Helper()
	clusterBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wisp-cluster-bin")
		if err != nil {
			clusterBinErr = err
			return
		}
		clusterBin = filepath.Join(dir, "wisp")
		if out, err := exec.Command(filepath.Join(goRoot(), "bin", "go"), "build", "-o", clusterBin, ".").CombinedOutput(); err != nil {
			clusterBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if clusterBinErr != nil {
		t.Fatal(clusterBinErr)
	}
	return clusterBin
}

// testRedis is a private redis-server the test may stop and start again (empty, as after a crash).
type testRedis struct {
	t    *testing.T
	sock string
	cmd  *exec.Cmd
}

func startTestRedis(t *testing.T) *testRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed (make test installs it: interop/deps.sh)")
	}
	dir, err := os.MkdirTemp("", "wr") // short: a unix socket path has a 108-byte limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r := &testRedis{t: t, sock: filepath.Join(dir, "r.sock")}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *testRedis) url() string { return "unix://" + r.sock }

func (r *testRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", "0", "--unixsocket", r.sock, "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c, err := cluster.Open(r.url())
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i == 100 {
			r.t.Fatal("redis-server did not answer")
		}
		time.Sleep(50 * time.Millisecond) // polling a starting process, bounded above
	}
}

func (r *testRedis) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	_ = os.Remove(r.sock)
	r.cmd = nil
}

// node is one wisp process of the cluster.
type node struct {
	*wispProc
	id   string
	host string // 127.0.0.x
	url  string // http://127.0.0.x:port, its -node-url and public base
}

// freeTCPPortOn returns a TCP port free on host now.
func freeTCPPortOn(t *testing.T, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// freeUDPPortOn returns a UDP port free on host now.
func freeUDPPortOn(t *testing.T, host string) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startNode runs a cluster node on host with the test's Redis; extra args are appended.
func startNode(t *testing.T, r *testRedis, id, host string, extra ...string) *node {
	t.Helper()
	port := freeTCPPortOn(t, host)
	url := fmt.Sprintf("http://%s:%d", host, port)
	args := append([]string{"-http", fmt.Sprintf("%s:%d", host, port), "-ice-host", host, "-ice-tcp=false",
		"-udp-port", strconv.Itoa(freeUDPPortOn(t, host)), "-rate-limit", "0", "-metrics", "off", "-log-level", "info",
		"-redis", r.url(), "-node-url", url, "-node-id", id, "-cluster-secret", clusterSecret,
		"-cluster-lease-ttl", clusterLeaseTTL.String()}, extra...)
	p := startWispArgs(t, clusterBinary(t), args)
	return &node{wispProc: p, id: id, host: host, url: url}
}

func (n *node) whip(stream string) string { return n.url + "/whip/" + stream }
func (n *node) whep(stream string) string { return n.url + "/whep/" + stream }

// kill sends sig (SIGKILL, SIGSTOP, SIGCONT) to the node.
func (n *node) kill(t *testing.T, sig syscall.Signal) { n.signal(t, sig) }

// apiStream is one entry of /api/streams as the cluster tests read it.
type apiStream struct {
	Name    string    `json:"name"`
	Live    bool      `json:"live"`
	Viewers int       `json:"viewers"`
	Owner   string    `json:"owner"`
	Epoch   int64     `json:"epoch"`
	Feeds   []apiFeed `json:"feeds"`
}

// apiFeed is one incoming layer of a stream as /api/streams shows it.
type apiFeed struct {
	Kind   string `json:"kind"`
	RID    string `json:"rid"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// streams reads the node's /api/streams.
func (n *node) streams(t *testing.T) (map[string]apiStream, string) {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(n.url + "/api/streams")
	if err != nil {
		t.Fatalf("%s /api/streams: %v", n.id, err)
	}
	defer resp.Body.Close()
	var body struct {
		Streams   []apiStream `json:"streams"`
		Directory string      `json:"directory"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s /api/streams: %v", n.id, err)
	}
	out := map[string]apiStream{}
	for _, s := range body.Streams {
		out[s.Name] = s
	}
	return out, body.Directory
}
