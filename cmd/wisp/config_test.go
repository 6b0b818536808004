package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP != ":8080" || c.UDPPort != 8189 || !c.ICETCP || c.LogLevel != slog.LevelInfo || len(c.PublishKeys) != 0 {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestConfigFlagsOverrideEnv(t *testing.T) {
	e := env(map[string]string{"WISP_HTTP": "127.0.0.1:9000", "WISP_UDP_PORT": "9001", "WISP_PUBLIC_IP": "203.0.113.1,203.0.113.2",
		"WISP_LOG_LEVEL": "debug", "WISP_PUBLISH_KEYS": "cam=s3cret,*=all"})
	c, err := parseConfig([]string{"-udp-port", "9002", "-public-ip", "198.51.100.7"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP != "127.0.0.1:9000" || c.UDPPort != 9002 || c.LogLevel != slog.LevelDebug {
		t.Fatalf("got %+v", c)
	}
	if len(c.PublicIPs) != 1 || c.PublicIPs[0] != "198.51.100.7" {
		t.Fatalf("public ips %v: the flag replaces the env list", c.PublicIPs)
	}
	if k, ok := c.PublishKeys.lookup("cam"); !ok || k != "s3cret" {
		t.Fatalf("cam key %q %v", k, ok)
	}
	if k, ok := c.PublishKeys.lookup("other"); !ok || k != "all" {
		t.Fatalf("wildcard key %q %v", k, ok)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-udp-port", "0"}, "-udp-port"},
		{[]string{"-udp-port", "x"}, "-udp-port"},
		{[]string{"-log-level", "loud"}, "-log-level"},
		{[]string{"-public-ip", "not-an-ip"}, "-public-ip"},
		{[]string{"-http", "8080"}, "-http"},
		{[]string{"-pprof", "6060"}, "-pprof"},
		{[]string{"-ice-tcp", "maybe"}, "-ice-tcp"},
		{[]string{"-publish-key", "cam"}, "-publish-key"},
		{[]string{"-publish-key", "bad/name=k"}, "-publish-key"},
		{[]string{"-public-url", "ftp://x"}, "-public-url"},
		{[]string{"-no-such-flag"}, "not defined"},
		{[]string{"extra"}, "unexpected"},
	} {
		_, err := parseConfig(tc.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
}

func TestConfigKeysFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte("# keys\npublish cam k1\nwatch cam k2\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig([]string{"-keys-file", path}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.PublishKeys["cam"] != "k1" || c.WatchKeys["cam"] != "k2" {
		t.Fatalf("keys %v %v", c.PublishKeys, c.WatchKeys)
	}
	if err := os.WriteFile(path, []byte("publish cam\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := parseConfig([]string{"-keys-file", path}, env(nil), io.Discard); err == nil {
		t.Fatal("a malformed keys file must be refused")
	}
}

// Keys never appear in usage text or error messages.
func TestConfigNeverShowsKeys(t *testing.T) {
	var out strings.Builder
	_, _ = parseConfig([]string{"-h"}, env(map[string]string{"WISP_PUBLISH_KEYS": "cam=topsecret"}), &out)
	_, err := parseConfig([]string{"-publish-key", "bad/name=topsecret"}, env(nil), io.Discard)
	if strings.Contains(out.String(), "topsecret") || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("a key leaked: usage %q, error %v", out.String(), err)
	}
}
