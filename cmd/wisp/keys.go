package main

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/wisp-media/wisp/stream"
)

// keyMap maps a stream name (or "*") to its bearer key.
type keyMap map[string]string

// lookup returns the key of a stream, falling back to "*".
func (k keyMap) lookup(name string) (string, bool) {
	if key, ok := k[name]; ok {
		return key, true
	}
	key, ok := k["*"]
	return key, ok
}

// known reports whether token is the key of some stream (constant time per key), so a key for
// another stream gets 403 rather than 401.
func (k keyMap) known(token string) bool {
	found := false
	for _, key := range k {
		if subtle.ConstantTimeCompare([]byte(token), []byte(key)) == 1 {
			found = true
		}
	}
	return found
}

func (k keyMap) add(flagName string, pairs []string) error {
	for _, pair := range pairs {
		name, key, ok := strings.Cut(pair, "=")
		if err := validKey(name, key); !ok || err != nil {
			return fmt.Errorf("%s: %q must be STREAM=KEY with a valid stream name (or *) and a non-empty key", flagName, redact(pair))
		}
		k[name] = key
	}
	return nil
}

func validKey(name, key string) error {
	if key == "" || strings.ContainsAny(key, " \t\r\n") {
		return errors.New("bad key")
	}
	if name == "*" {
		return nil
	}
	return stream.ValidateName(name)
}

// readKeysFile reads lines "publish STREAM KEY" or "watch STREAM KEY"; # starts a comment.
func (c *config) readKeysFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("-keys-file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 || validKey(fields[1], fields[2]) != nil {
			return fmt.Errorf("-keys-file %s:%d: want 'publish|watch STREAM KEY'", path, n)
		}
		switch fields[0] {
		case "publish":
			c.PublishKeys[fields[1]] = fields[2]
		case "watch":
			c.WatchKeys[fields[1]] = fields[2]
		default:
			return fmt.Errorf("-keys-file %s:%d: %q is not publish or watch", path, n, fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("-keys-file: %w", err)
	}
	return nil
}

// redact hides the key of a STREAM=KEY pair in messages: keys are never logged.
func redact(pair string) string {
	if name, _, ok := strings.Cut(pair, "="); ok {
		return name + "=…"
	}
	return "…"
}
