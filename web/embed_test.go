package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

var pages = []string{IndexPage, PublishPage, WatchPage}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(FS(), name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func TestFSHasEveryFile(t *testing.T) {
	for _, name := range []string{
		"index.html", "publish.html", "watch.html",
		"wisp.js", "index.js", "publish.js", "watch.js", "player.js", "layers.js", "style.css",
	} {
		if body := readFile(t, name); strings.TrimSpace(body) == "" {
			t.Errorf("%s is empty", name)
		}
	}
}

// attrRe finds src= and href= attribute values, quoted either way.
var attrRe = regexp.MustCompile(`(?i)\b(src|href)\s*=\s*(?:"([^"]*)"|'([^']*)')`)

// TestHTMLReferencesExist checks that every src/href of a page is an inline
// data: URL, a fragment, the index route, or /static/<file> present in FS.
// Relative paths are refused: the pages are served at /publish/:stream and
// /watch/:stream, where "style.css" would resolve to /publish/style.css.
func TestHTMLReferencesExist(t *testing.T) {
	for _, page := range pages {
		body := readFile(t, page)
		matches := attrRe.FindAllStringSubmatch(body, -1)
		if len(matches) == 0 {
			t.Errorf("%s: no src/href found; the attribute pattern is broken", page)
		}
		for _, m := range matches {
			ref := m[2] + m[3]
			switch {
			case ref == "/", strings.HasPrefix(ref, "#"), strings.HasPrefix(ref, "data:"):
			case strings.HasPrefix(ref, StaticPrefix):
				file := strings.TrimPrefix(ref, StaticPrefix)
				if !fs.ValidPath(file) {
					t.Errorf("%s: %s=%q is not a valid FS path", page, m[1], ref)
				} else if _, err := fs.Stat(FS(), file); err != nil {
					t.Errorf("%s: %s=%q: %v", page, m[1], ref, err)
				}
			default:
				t.Errorf("%s: %s=%q: want %s<file>, \"/\", \"#…\" or data:", page, m[1], ref, StaticPrefix)
			}
		}
	}
}

// importRe finds the specifiers of static ES module imports.
var importRe = regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]`)

func TestJSImportsExist(t *testing.T) {
	for _, name := range []string{"index.js", "publish.js", "watch.js", "player.js", "embed.js", "layers.js"} {
		body := readFile(t, name)
		matches := importRe.FindAllStringSubmatch(body, -1)
		if len(matches) == 0 {
			t.Errorf("%s: imports nothing; expected ./wisp.js", name)
		}
		for _, m := range matches {
			spec := m[1] + m[2]
			if !strings.HasPrefix(spec, "./") {
				t.Errorf("%s: import %q: only ./ siblings in static/ are served", name, spec)
				continue
			}
			if _, err := fs.Stat(FS(), strings.TrimPrefix(spec, "./")); err != nil {
				t.Errorf("%s: import %q: %v", name, spec, err)
			}
		}
	}
}

func TestNoExternalURLs(t *testing.T) {
	urlRe := regexp.MustCompile(`(?i)https?://[^\s"'<>)]*`)
	err := fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, u := range urlRe.FindAllString(readFile(t, path), -1) {
			t.Errorf("%s: external URL %q; the pages must work offline and same-origin", path, u)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCSPFriendly keeps the pages loadable under a strict
// Content-Security-Policy: no inline scripts, handlers or styles.
func TestCSPFriendly(t *testing.T) {
	bad := []struct {
		re   *regexp.Regexp
		what string
	}{
		{regexp.MustCompile(`(?is)<script\b[^>]*>\s*[^<\s]`), "inline script"},
		{regexp.MustCompile(`(?i)\son[a-z]+\s*=`), "inline event handler"},
		{regexp.MustCompile(`(?i)\sstyle\s*=`), "style attribute"},
		{regexp.MustCompile(`(?i)<style\b`), "style element"},
	}
	for _, page := range pages {
		body := readFile(t, page)
		for _, b := range bad {
			if b.re.MatchString(body) {
				t.Errorf("%s: has an %s", page, b.what)
			}
		}
		for _, tag := range regexp.MustCompile(`(?i)<script\b[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(tag, `type="module"`) {
				t.Errorf("%s: %s is not a module script", page, tag)
			}
		}
	}
}

// TestStableIDs guards the element ids that browser tests and web/README.md
// rely on.
func TestStableIDs(t *testing.T) {
	idRe := regexp.MustCompile(`\bid="([^"]+)"`)
	want := map[string][]string{
		IndexPage: {"go", "stream-name", "go-watch", "go-publish", "streams", "streams-status"},
		PublishPage: {"stream-name", "camera", "screen", "media", "codec", "simulcast", "preview", "key-form", "key", "start", "stop",
			"state", "status", "message-form", "message", "send", "sent"},
		WatchPage: {"stream-name", "player", "unmute", "state", "status", "stats",
			"notice", "stat-resolution", "stat-fps", "stat-bitrate", "stat-lost", "stat-decoded", "messages",
			"layers", "layer-choice", "layer-auto", "layer-rows", "layer-status"},
	}
	for page, ids := range want {
		seen := map[string]int{}
		for _, m := range idRe.FindAllStringSubmatch(readFile(t, page), -1) {
			seen[m[1]]++
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("%s: id %q appears %d times", page, id, n)
			}
		}
		for _, id := range ids {
			if seen[id] == 0 {
				t.Errorf("%s: missing #%s", page, id)
			}
		}
	}
}
