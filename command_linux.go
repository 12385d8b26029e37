package rtcbot

import "syscall"

// setParentDeathSignal has Linux kill a source's command if this process
// dies without stopping it.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
