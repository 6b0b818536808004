package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// wispProc is the real wisp binary running under a test: its announced base URL, its log and
// its exit.
type wispProc struct {
	cmd    *exec.Cmd
	base   string // http(s)://host:port from the "open …" line
	logs   *syncBuffer
	exited chan error // receives cmd.Wait's result once
	exit   error      // set by waitExit
	done   bool
}

// buildWisp builds the binary with the toolchain running the test.
func buildWisp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wisp")
	goBin := filepath.Join(goRoot(), "bin", "go")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startWisp runs bin on 127.0.0.1 (HTTP on a free port, media on a free UDP port, no keys, no
// rate limit) with extra args appended, and waits for its announced URL. The process is killed
// at the end of the test if it is still running; its log is shown if the test failed.
func startWisp(t *testing.T, bin string, extra ...string) *wispProc {
	t.Helper()
	args := append([]string{"-http", "127.0.0.1:0", "-ice-host", "127.0.0.1", "-ice-tcp=false",
		"-udp-port", strconv.Itoa(freeUDPPort(t)), "-rate-limit", "0", "-metrics", "off"}, extra...)
	return startWispArgs(t, bin, args)
}

// startWispArgs runs bin with exactly args and waits for its announced URL; see startWisp.
func startWispArgs(t *testing.T, bin string, args []string) *wispProc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "WISP_PUBLISH_KEYS=", "WISP_WATCH_KEYS=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &wispProc{cmd: cmd, logs: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if !p.done {
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("wisp's log:\n%s", p.logs.String())
		}
	})
	base := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`open (https?://[^/ ]+)/`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				base <- m[1]
			}
		}
	}()
	select {
	case p.base = <-base:
	case err := <-p.exited:
		p.done = true
		t.Fatalf("wisp exited at start: %v\n%s", err, p.logs.String())
	case <-time.After(15 * time.Second):
		t.Fatal("wisp did not announce its URL in 15 s")
	}
	return p
}

// goRoot is the toolchain running the test.
func goRoot() string { return runtime.GOROOT() }

// signal sends sig to the process.
func (p *wispProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// waitExit waits up to d for the process to exit and returns how long it took and its status.
func (p *wispProc) waitExit(t *testing.T, d time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	select {
	case err := <-p.exited:
		p.done, p.exit = true, err
		return time.Since(start), err
	case <-time.After(d):
		t.Fatalf("wisp still running %v later", d)
		return 0, nil
	}
}
