//go:build !linux

package livekitserver

import "syscall"

// dieWithParent does nothing where the kernel cannot kill a child with
// its parent: Stop or Kill must.
func dieWithParent(*syscall.SysProcAttr) {}
