package rtc

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestPionLogs: pion's errors reach slog at Warn with their subsystem, its chatter stays below
// Info, and a scope's logger is made once however many PeerConnections ask.
func TestPionLogs(t *testing.T) {
	var out bytes.Buffer
	f := newPionLogs(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ice := f.NewLogger("ice")
	if f.NewLogger("ice") != ice {
		t.Fatal("a second logger for the same scope")
	}
	ice.Errorf("binding failed: %d", 42)
	ice.Warnf("discarded packet from %s", "1.2.3.4")
	ice.Info("state changed")
	ice.Debug("checking")
	ice.Trace("ping")
	got := out.String()
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, "level=WARN") ||
		!strings.Contains(got, `msg="binding failed: 42"`) || !strings.Contains(got, "pion=ice") {
		t.Fatalf("log output:\n%s", got)
	}
}
