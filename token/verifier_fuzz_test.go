package token

import (
	"context"
	"errors"
	"testing"

	"github.com/wisp-media/wisp/wish"
)

// FuzzVerify: no input panics, and no input that was not signed with the secret verifies or
// reads as a genuine token of another stream or action.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		"", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdHJlYW0iOiIqIn0.",
		"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTksInN0cmVhbSI6IioiLCJhY3Rpb24iOiJwdWJsaXNoIn0.AAAA",
		"eyJhbGciOiJSUzI1NiIsImtpZCI6ImEifQ.e30.AAAA", "..", "x.y", "\x00.\xff.\x80",
	} {
		f.Add(s)
	}
	v, err := New(context.Background(), Config{Secret: []byte("fuzz secret of a fine length....")})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := v.Verify(context.Background(), raw, "publish", "cam")
		if err == nil || errors.Is(err, wish.ErrNotGranted) {
			t.Fatalf("%q: %v", raw, err)
		}
	})
}
