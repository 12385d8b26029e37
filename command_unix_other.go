//go:build unix && !linux

package rtcbot

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
