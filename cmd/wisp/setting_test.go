package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

// Every declared setting is in the README's settings table with its flag, its environment
// variable and (when it has one) its default, so the table cannot drift from the code.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `-") {
			flag, _, _ := strings.Cut(strings.TrimPrefix(line, "| `-"), "`")
			rows[flag] = line
		}
	}
	var c config
	decls := c.settings(&rawConfig{})
	if len(decls) == 0 {
		t.Fatal("no settings declared")
	}
	for _, s := range decls {
		row, ok := rows[s.flag]
		if !ok {
			t.Errorf("README has no row for -%s", s.flag)
			continue
		}
		if !strings.Contains(row, "`"+s.envName()+"`") {
			t.Errorf("README row of -%s does not name %s: %s", s.flag, s.envName(), row)
		}
		if s.def != "" && !strings.Contains(row, "`"+s.def+"`") {
			t.Errorf("README row of -%s does not give the default %q: %s", s.flag, s.def, row)
		}
		delete(rows, s.flag)
	}
	for flag := range rows {
		t.Errorf("README lists -%s, which is not a setting", flag)
	}
}

// Each setting's default parses (the server starts with no flags and no environment), and each
// setting is declared once.
func TestSettingsDeclaredOnce(t *testing.T) {
	if _, err := parseConfig(nil, env(nil), io.Discard); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	seen := map[string]bool{}
	var c config
	for _, s := range c.settings(&rawConfig{}) {
		for _, name := range []string{"-" + s.flag, s.envName()} {
			if seen[name] {
				t.Errorf("%s declared twice", name)
			}
			seen[name] = true
		}
		if s.help == "" || s.apply == nil {
			t.Errorf("-%s: no help text or no check", s.flag)
		}
	}
}

// The usage text names each setting's environment variable.
func TestUsageNamesEnvironment(t *testing.T) {
	var out strings.Builder
	_, _ = parseConfig([]string{"-h"}, env(nil), &out)
	for _, want := range []string{"-udp-port", "(env WISP_UDP_PORT)", "(env WISP_PUBLISH_KEYS)", "-connect-timeout"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}
