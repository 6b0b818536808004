package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// setting declares one server setting in one place: its flag, its environment variable, its
// default, its help text, and how a value is checked and stored into the config. config.settings
// lists every setting; parseConfig registers them, reads the flags with the environment as
// fallback and applies each one. Adding a setting is one line there plus the field it fills.
type setting struct {
	flag   string // flag name without the dash
	env    string // environment variable (default: WISP_ + FLAG in upper case, - → _)
	def    string // default value as text (a comma list for list settings)
	help   string // usage text; "(env NAME)" is added
	list   bool   // repeatable; every use and the environment value may be comma lists
	secret bool   // values are keys: never shown in usage text or messages
	isBool bool   // a switch: the flag alone means true (-turn), or -flag=false

	// apply checks the setting's value(s) and stores them. A scalar setting gets exactly one
	// value (the flag's, else the environment's, else def); a list setting gets every item.
	apply func(values []string) error
}

// withEnv names the setting's environment variable when it is not the derived one.
func (s setting) withEnv(name string) setting { s.env = name; return s }

// envName is the setting's environment variable.
func (s setting) envName() string {
	if s.env != "" {
		return s.env
	}
	return "WISP_" + strings.ToUpper(strings.ReplaceAll(s.flag, "-", "_"))
}

// fail is the message of a bad value: the flag, the value (hidden for secrets) and what it must be.
func (s setting) fail(v, want string) error {
	if s.secret {
		v = redact(v)
	}
	return fmt.Errorf("-%s: %q %s", s.flag, v, want)
}

// value holds what the flag set and the environment gave for one setting.
type value struct {
	s      setting
	values []string
	set    bool // given on the command line: the first use replaces the environment's value
}

func (v *value) String() string {
	if v == nil || v.s.secret {
		return ""
	}
	return strings.Join(v.values, ",")
}

// IsBoolFlag lets a switch setting be given without a value (flag.boolFlag).
func (v *value) IsBoolFlag() bool { return v.s.isBool }

func (v *value) Set(x string) error {
	if !v.set {
		v.values, v.set = nil, true
	}
	if v.s.list {
		v.values = append(v.values, splitList(x)...)
	} else {
		v.values = []string{x}
	}
	return nil
}

// register adds the setting to fs, its initial value taken from the environment (else the default).
func (s setting) register(fs *flag.FlagSet, getenv func(string) string) *value {
	raw := getenv(s.envName())
	if raw == "" {
		raw = s.def
	}
	v := &value{s: s}
	if s.list {
		v.values = splitList(raw)
	} else {
		v.values = []string{raw}
	}
	fs.Var(v, s.flag, fmt.Sprintf("%s (env %s)", s.help, s.envName()))
	return v
}

// The kinds of setting. Each returns a declaration bound to the config field it fills.

// text is a free string.
func text(dst *string, name, def, help string) setting {
	return setting{flag: name, def: def, help: help, apply: func(v []string) error { *dst = v[0]; return nil }}
}

// choice is one of a fixed set of words.
func choice(dst *string, name, def, help string, options ...string) setting {
	s := setting{flag: name, def: def, help: help}
	s.apply = func(v []string) error {
		if !slices.Contains(options, v[0]) {
			return s.fail(v[0], "is not "+strings.Join(options, " or "))
		}
		*dst = v[0]
		return nil
	}
	return s
}

// secretText is a free string that is never shown (a key or secret).
func secretText(dst *string, name, help string) setting {
	s := text(dst, name, "", help)
	s.secret = true
	return s
}

// httpURL is empty (off) or an absolute http:// or https:// URL with a host.
func httpURL(dst *string, name, help string) setting {
	s := setting{flag: name, help: help}
	s.apply = func(v []string) error {
		if v[0] == "" {
			*dst = ""
			return nil
		}
		u, err := url.Parse(v[0])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return s.fail(v[0], "is not an http:// or https:// URL")
		}
		*dst = v[0]
		return nil
	}
	return s
}

// optionalIPv4 is an IPv4 address or empty.
func optionalIPv4(dst *string, name, help string) setting {
	s := setting{flag: name, help: help}
	s.apply = func(v []string) error {
		if v[0] != "" && ipv4(v[0]) != "" {
			return s.fail(v[0], "is not an IPv4 address")
		}
		*dst = v[0]
		return nil
	}
	return s
}

// logLevel is debug, info, warn or error.
func logLevel(dst *slog.Level, name, def, help string) setting {
	s := setting{flag: name, def: def, help: help}
	s.apply = func(v []string) error {
		if err := dst.UnmarshalText([]byte(v[0])); err != nil {
			return s.fail(v[0], "is not debug, info, warn or error")
		}
		return nil
	}
	return s
}

// baseURL is empty or an http:// or https:// URL, kept without a trailing slash.
func baseURL(dst *string, name, help string) setting {
	s := setting{flag: name, help: help}
	s.apply = func(v []string) error {
		u := strings.TrimRight(v[0], "/")
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return s.fail(v[0], "must start with http:// or https://")
		}
		*dst = u
		return nil
	}
	return s
}

// hostPort is a listen address host:port; optional ones may be empty (off).
func hostPort(dst *string, name, def, help string, optional bool) setting {
	s := setting{flag: name, def: def, help: help}
	s.apply = func(v []string) error {
		if v[0] == "" && optional {
			*dst = ""
			return nil
		}
		if _, _, err := net.SplitHostPort(v[0]); err != nil {
			return fmt.Errorf("-%s: %q is not host:port: %w", name, v[0], err)
		}
		*dst = v[0]
		return nil
	}
	return s
}

// listenOrOff is a listen address host:port, or "off" (stored as "").
func listenOrOff(dst *string, name, def, help string) setting {
	s := hostPort(dst, name, def, help, false)
	inner := s.apply
	s.apply = func(v []string) error {
		if v[0] == "off" {
			*dst = ""
			return nil
		}
		return inner(v)
	}
	return s
}

// boolean is true or false; with invert the field holds the opposite (a "no" field).
func boolean(dst *bool, name, def, help string, invert bool) setting {
	s := setting{flag: name, def: def, help: help}
	s.apply = func(v []string) error {
		b, err := strconv.ParseBool(v[0])
		if err != nil {
			return s.fail(v[0], "is not true or false")
		}
		*dst = b != invert
		return nil
	}
	return s
}

// switchOn is a boolean given as a bare flag (-turn) or -flag=true|false; default false.
func switchOn(dst *bool, name, help string) setting {
	s := boolean(dst, name, "false", help, false)
	s.isBool = true
	return s
}

// count is a whole number ≥ lo (and ≤ hi when hi > 0).
func count(dst *int, name, def, help string, lo, hi int) setting {
	s := setting{flag: name, def: def, help: help}
	s.apply = func(v []string) error {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < lo || (hi > 0 && n > hi) {
			if hi > 0 {
				return s.fail(v[0], fmt.Sprintf("is not a number %d-%d", lo, hi))
			}
			return s.fail(v[0], fmt.Sprintf("is not a count ≥ %d", lo))
		}
		*dst = n
		return nil
	}
	return s
}

// rate is a finite real number ≥ 0.
func rate(dst *float64, name, def, help string) setting {
	s := setting{flag: name, def: def, help: help}
	s.apply = func(v []string) error {
		f, err := strconv.ParseFloat(v[0], 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return s.fail(v[0], "is not a rate ≥ 0")
		}
		*dst = f
		return nil
	}
	return s
}

// duration is a Go duration > 0 (or ≥ 0 with zeroOK).
func duration(dst *time.Duration, name, def, help string, zeroOK bool) setting {
	s := setting{flag: name, def: def, help: help}
	s.apply = func(v []string) error {
		d, err := time.ParseDuration(v[0])
		if err != nil || d < 0 || (d == 0 && !zeroOK) {
			if zeroOK {
				return s.fail(v[0], "is not a duration ≥ 0")
			}
			return s.fail(v[0], "is not a positive duration")
		}
		*dst = d
		return nil
	}
	return s
}

// list is a repeatable setting of comma lists; check, if set, validates each item and returns
// what the item must be.
func list(dst *[]string, name, help string, check func(string) string) setting {
	s := setting{flag: name, help: help, list: true}
	s.apply = func(v []string) error {
		for _, x := range v {
			if check != nil {
				if want := check(x); want != "" {
					return s.fail(x, want)
				}
			}
		}
		*dst = v
		return nil
	}
	return s
}

// secretList is a list whose items are keys (never shown).
func secretList(dst *[]string, name, help string) setting {
	s := list(dst, name, help, nil)
	s.secret = true
	return s
}

// ipv4 checks one item of an IPv4 address list ("" allowed for an optional scalar).
func ipv4(x string) string {
	if net.ParseIP(x).To4() == nil {
		return "is not an IPv4 address"
	}
	return ""
}

// splitList splits a comma list, dropping empty items and spaces.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// withDefault sets the default of a list setting (a comma list).
func (s setting) withDefault(d string) setting { s.def = d; return s }
