//go:build !unix

package rtcbot

import (
	"os/exec"
	"syscall"
)

func commandProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup ends cmd: only the process itself, as there are no process
// groups to signal.
func signalGroup(cmd *exec.Cmd, _ bool) { cmd.Process.Kill() }
