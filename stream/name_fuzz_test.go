package stream

import (
	"errors"
	"net/url"
	"testing"
)

// FuzzValidateName checks that every accepted stream name is 1-MaxNameLen bytes of the URL
// path-safe set, not "." or "..", and so needs no escaping in a URL path (it is used in Location
// headers and session URLs as is); every refusal is ErrInvalidName (→ 404). Seeds:
// testdata/fuzz/FuzzValidateName plus those below.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"cam", "", ".", "..", "a/b", "a%2fb", "../etc", "ok-name_1.2~x", "é", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("error %v is not ErrInvalidName", err)
			}
			return
		}
		if len(name) == 0 || len(name) > MaxNameLen || name == "." || name == ".." {
			t.Fatalf("accepted %q", name)
		}
		if url.PathEscape(name) != name {
			t.Fatalf("accepted %q, which needs escaping in a path", name)
		}
	})
}
