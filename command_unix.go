//go:build unix

package rtcbot

import (
	"os/exec"
	"syscall"
)

// commandProcAttr puts a source's command in a process group of its own,
// so that stopping it stops what it started too.
func commandProcAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(a)
	return a
}

// signalGroup sends SIGTERM, or SIGKILL, to cmd's process group.
func signalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	syscall.Kill(-cmd.Process.Pid, sig)
}
