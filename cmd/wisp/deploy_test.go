package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// grafanaQueries returns every "expr" and "query" string anywhere in a dashboard.
func grafanaQueries(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "query") {
				out = append(out, s)
			}
			out = append(out, grafanaQueries(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, grafanaQueries(x)...)
		}
	}
	return out
}

// Every metric deploy/grafana/wisp.json queries exists in a live /metrics (issue 14, Done-when 2).
func TestGrafanaDashboardMetricsExist(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/wisp.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("wisp.json: %v", err)
	}
	srv := startServer(t, func(c *config) { c.Metrics = "127.0.0.1:0" })
	sc := scrapeMetrics(t, srv)
	names := regexp.MustCompile(`\b(?:wisp|process|go)_[a-z0-9_]+\b`)
	seen := map[string]bool{}
	for _, q := range grafanaQueries(dash) {
		for _, name := range names.FindAllString(q, -1) {
			if seen[name] {
				continue
			}
			seen[name] = true
			family := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(name, suffix); ok && sc[base] != nil {
					family = base
				}
			}
			if sc[family] == nil || len(sc[family].Metric) == 0 {
				t.Errorf("the dashboard queries %s; /metrics has no %s", name, family)
			}
		}
	}
	for _, must := range []string{"wisp_streams", "wisp_stream_viewers", "wisp_egress_bytes_total", "wisp_dropped_packets_total", "wisp_join_seconds_bucket"} {
		if !seen[must] {
			t.Errorf("the dashboard does not query %s (streams, viewers, egress bit/s, drops, join-time quantiles)", must)
		}
	}
	if len(seen) < 10 {
		t.Fatalf("only %d metric names found in the dashboard: %v", len(seen), seen)
	}
}

// k8sPort is a container or Service port.
type k8sPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
	Port          int    `yaml:"port"`
	Protocol      string `yaml:"protocol"`
}

// k8sProbe is an HTTP probe.
type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

// k8sDoc is the part of a Kubernetes object the test reads.
type k8sDoc struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Ports    []k8sPort `yaml:"ports"` // Service
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				Containers                    []struct {
					Ports []k8sPort `yaml:"ports"`
					Env   []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					LivenessProbe  k8sProbe `yaml:"livenessProbe"`
					ReadinessProbe k8sProbe `yaml:"readinessProbe"`
					Lifecycle      struct {
						PreStop map[string]any `yaml:"preStop"`
					} `yaml:"lifecycle"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// The Kubernetes files parse, the Deployment and the Service name every port the Dockerfile
// exposes, the probes are /healthz and /readyz, a preStop hook is set, the drain fits in the
// grace period, and every WISP_ variable is a setting wisp knows (issue 14, Done-when 2).
func TestDeployFiles(t *testing.T) {
	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var exposed []string // "8189/udp"
	for _, line := range strings.Split(string(docker), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "EXPOSE "); ok {
			exposed = append(exposed, strings.Fields(strings.ToLower(rest))...)
		}
	}
	if len(exposed) == 0 {
		t.Fatal("the Dockerfile exposes no port")
	}
	var docs []k8sDoc
	files, _ := filepath.Glob("../../deploy/kubernetes/*.yaml")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(fh)
		for {
			var d k8sDoc
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			docs = append(docs, d)
		}
		fh.Close()
	}
	envs := map[string]bool{}
	var c config
	var r rawConfig
	for _, s := range c.settings(&r) {
		envs[s.envName()] = true
	}
	var deploy, service *k8sDoc
	for i := range docs {
		switch {
		case docs[i].Kind == "Deployment":
			deploy = &docs[i]
		case docs[i].Kind == "Service" && docs[i].Metadata.Name == "wisp":
			service = &docs[i]
		}
	}
	if deploy == nil || service == nil || len(deploy.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want a Deployment with one container and a Service named wisp in %v", files)
	}
	ctr := deploy.Spec.Template.Spec.Containers[0]
	portSet := func(ps []k8sPort, container bool) []string {
		var out []string
		for _, p := range ps {
			n := p.Port
			if container {
				n = p.ContainerPort
			}
			out = append(out, strconv.Itoa(n)+"/"+strings.ToLower(p.Protocol))
		}
		return out
	}
	for _, p := range exposed {
		if !slices.Contains(portSet(ctr.Ports, true), p) {
			t.Errorf("the Deployment's container does not name the Dockerfile's port %s (has %v)", p, portSet(ctr.Ports, true))
		}
		if !slices.Contains(portSet(service.Spec.Ports, false), p) {
			t.Errorf("the Service does not name the Dockerfile's port %s (has %v)", p, portSet(service.Spec.Ports, false))
		}
	}
	if ctr.LivenessProbe.HTTPGet.Path != healthPath || ctr.ReadinessProbe.HTTPGet.Path != readyPath {
		t.Errorf("probes %q / %q, want %s / %s", ctr.LivenessProbe.HTTPGet.Path, ctr.ReadinessProbe.HTTPGet.Path, healthPath, readyPath)
	}
	if len(ctr.Lifecycle.PreStop) == 0 {
		t.Error("no preStop hook")
	}
	var drain time.Duration
	for _, e := range ctr.Env {
		if strings.HasPrefix(e.Name, "WISP_") && !envs[e.Name] {
			t.Errorf("the Deployment sets %s, which is no wisp setting", e.Name)
		}
		if e.Name == "WISP_DRAIN_TIMEOUT" {
			if drain, err = time.ParseDuration(e.Value); err != nil {
				t.Errorf("WISP_DRAIN_TIMEOUT %q: %v", e.Value, err)
			}
		}
	}
	if grace := time.Duration(deploy.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second; drain == 0 || grace < drain+10*time.Second {
		t.Errorf("drain %v, grace period %v: the grace period must cover the drain, the preStop pause and the close", drain, grace)
	}
}
