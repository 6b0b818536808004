package main

import (
	"context"
	"encoding/json"
	"path"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// With -log-format json every line the real binary writes is one JSON object, and each session
// logs "session started" and "session ended" with its stream, kind, session id, remote address,
// duration, bytes and why it ended (issue 14, Done-when 6): the viewer's DELETE (COMMON-17) ends
// it as "deleted", the publisher ends with the server as "shutdown".
func TestJSONLogSessionLines(t *testing.T) {
	p := startWisp(t, buildWisp(t), "-log-format", "json")
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, p.base+"/whip/cam", client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	v, err := client.View(ctx, p.base+"/whep/cam", client.ViewOptions{Video: true})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	recvFrames(t, v, m, 30, 10*time.Second)
	viewerID := path.Base(v.Location())
	received := v.Stats().Video.Bytes
	if err := v.Close(); err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	waitFor(t, 5*time.Second, "the viewer's session-end line", func() bool {
		return strings.Contains(p.logs.String(), `"msg":"session ended"`)
	})
	p.signal(t, syscall.SIGTERM)
	if _, err := p.waitExit(t, 10*time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}

	ends := map[string]map[string]any{} // kind → the session-end line
	starts := map[string]bool{}
	lines := strings.Split(strings.TrimSpace(p.logs.String()), "\n")
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d is not JSON (%v): %s", i+1, err, line)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("line %d has no %q: %s", i+1, k, line)
			}
		}
		kind, _ := rec["kind"].(string)
		switch rec["msg"] {
		case "session started":
			starts[kind] = true
		case "session ended":
			ends[kind] = rec
		}
	}
	if !starts["whip"] || !starts["whep"] {
		t.Errorf("session-start lines for %v, want whip and whep", starts)
	}
	for kind, want := range map[string]string{"whep": "deleted", "whip": "shutdown"} {
		rec, ok := ends[kind]
		if !ok {
			t.Errorf("no session-end line for %s", kind)
			continue
		}
		if rec["stream"] != "cam" || rec["reason"] != want {
			t.Errorf("%s end: stream %v reason %v, want cam, %s", kind, rec["stream"], rec["reason"], want)
		}
		if id, _ := rec["session"].(string); len(id) < 16 {
			t.Errorf("%s end: session %v", kind, rec["session"])
		}
		if r, _ := rec["remote"].(string); !strings.HasPrefix(r, "127.0.0.1:") {
			t.Errorf("%s end: remote %v, want the client's 127.0.0.1:port", kind, rec["remote"])
		}
		if d, _ := rec["duration_seconds"].(float64); d <= 0 {
			t.Errorf("%s end: duration_seconds %v", kind, rec["duration_seconds"])
		}
		for _, k := range []string{"bytes_sent", "bytes_received"} {
			if b, _ := rec[k].(float64); b <= 0 {
				t.Errorf("%s end: %s %v", kind, k, rec[k])
			}
		}
	}
	if rec := ends["whep"]; rec != nil {
		if rec["session"] != viewerID {
			t.Errorf("whep end: session %v, want %s (from the Location)", rec["session"], viewerID)
		}
		// What the server sent covers what the viewer received (RTP payloads of 30+ frames).
		if sent, _ := rec["bytes_sent"].(float64); sent < float64(received) {
			t.Errorf("whep end: bytes_sent %v < %d payload bytes the viewer received", sent, received)
		}
	}
}
