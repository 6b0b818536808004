//go:build !unix

package main

import (
	"os/exec"
	"testing"
)

// inOwnGroup does nothing where process groups are not available.
func inOwnGroup(*exec.Cmd) {}

// killGroup kills and reaps cmd only.
func killGroup(_ testing.TB, cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}
