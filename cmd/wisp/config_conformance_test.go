package main

import (
	"io"
	"testing"
)

// The conformance settings: -ice-server (COMMON-14/15), -turn-secret, -lenient-if-match
// (COMMON-24), -ice-restart (COMMON-27), -whep-require-publisher (WHEP-04), from flags or the
// environment, validated.
func TestConfigConformanceSettings(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ICEServers) != 0 || c.TURNSecret != "" || !c.LenientIfMatch || c.NoICERestart || c.WHEPRequirePublisher {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = parseConfig([]string{"-ice-server", "stun:stun.test:3478", "-ice-server", "turn:turn.test:3478?transport=udp",
		"-lenient-if-match", "false", "-ice-restart", "false"}, env(map[string]string{"WISP_TURN_SECRET": "s", "WISP_WHEP_REQUIRE_PUBLISHER": "true"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ICEServers) != 2 || c.TURNSecret != "s" || c.LenientIfMatch || !c.NoICERestart || !c.WHEPRequirePublisher {
		t.Fatalf("parsed: %+v", c)
	}
	c, err = parseConfig(nil, env(map[string]string{"WISP_ICE_SERVERS": "stun:a:1,turns:b:5349"}), io.Discard)
	if err != nil || len(c.ICEServers) != 2 {
		t.Fatalf("env list: %v %v", c.ICEServers, err)
	}
	for _, bad := range [][]string{
		{"-ice-server", "http://stun.test"},
		{"-ice-server", `stun:a"b`},
		{"-lenient-if-match", "maybe"},
		{"-ice-restart", "perhaps"},
		{"-whep-require-publisher", "sometimes"},
	} {
		if _, err := parseConfig(bad, env(nil), io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	keys := keyMap{"a": "ka", "*": "kall"}
	if !keys.known("ka") || !keys.known("kall") || keys.known("nope") || keys.known("") {
		t.Fatal("keyMap.known")
	}
}
