package livekitserver

import "syscall"

// dieWithParent has the kernel kill the server when the process that
// started it dies, so that none outlives a test binary or a demo killed
// hard.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
