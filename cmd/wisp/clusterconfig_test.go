package main

import (
	"io"
	"strings"
	"testing"
)

// A missing or malformed cluster setting stops the server at start with a message naming it;
// without -redis nothing of the cluster is configured (a single node, exactly as before).
func TestClusterSettings(t *testing.T) {
	const secret = "0123456789abcdef"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-redis", "localhost:6379", "-node-url", "http://a:8080", "-cluster-secret", secret}, "-redis"},
		{[]string{"-redis", "redis://[bad", "-node-url", "http://a:8080", "-cluster-secret", secret}, "-redis"},
		{[]string{"-redis", "redis://r:6379/0", "-cluster-secret", secret}, "-node-url"},
		{[]string{"-redis", "redis://r:6379/0", "-node-url", "a:8080", "-cluster-secret", secret}, "-node-url"},
		{[]string{"-redis", "redis://r:6379/0", "-node-url", "http://a:8080"}, "-cluster-secret"},
		{[]string{"-redis", "redis://r:6379/0", "-node-url", "http://a:8080", "-cluster-secret", "short"}, "-cluster-secret"},
		{[]string{"-node-url", "http://a:8080"}, "need -redis"},
		{[]string{"-cluster-secret", secret}, "need -redis"},
		{[]string{"-cluster-lease-ttl", "0s"}, "-cluster-lease-ttl"},
	} {
		_, err := parseConfig(tc.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want it to mention %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%v: the message shows the secret: %v", tc.args, err)
		}
	}
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil || c.Cluster.Redis != "" || c.Cluster.NodeID != "" {
		t.Fatalf("defaults: %+v, %v: want no cluster", c.Cluster, err)
	}
	c, err = parseConfig([]string{"-redis", "unix:///run/redis.sock", "-node-url", "http://10.0.0.2:8080", "-cluster-secret", secret}, env(nil), io.Discard)
	if err != nil || c.Cluster.NodeID != "10.0.0.2:8080" {
		t.Fatalf("node id %q, %v: want the host:port of -node-url", c.Cluster.NodeID, err)
	}
}
