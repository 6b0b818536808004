package stream

import "fmt"

// MaxNameLen is the longest accepted stream name.
const MaxNameLen = 128

// ValidateName checks that name is a usable stream name: 1 to MaxNameLen characters from the URL
// path-safe set A-Z a-z 0-9 '.' '_' '~' '-', and not "." or "..".
func ValidateName(name string) error {
	if name == "" || len(name) > MaxNameLen || name == "." || name == ".." {
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '~' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q", ErrInvalidName, name)
		}
	}
	return nil
}
