//go:build unix

package main

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// inOwnGroup makes cmd start in a process group of its own, so killGroup can end everything it
// spawns (Chromium's renderer, GPU and utility processes outlive a kill of the browser process).
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills cmd's whole process group, reaps cmd, and waits (up to 10 s) until no process
// of the group is left, so that nothing writes into a directory the test is about to remove.
func killGroup(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(-pgid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("process group %d still has processes 10 s after SIGKILL (%v)", pgid, err)
			return
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(20 * time.Millisecond)
	}
}
