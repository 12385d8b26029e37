//go:build unix

// Package ptytest opens pseudo-terminal pairs for tests of serial devices:
// the test plays the device on the master side, the code under test opens
// the slave as its serial port.
package ptytest

import (
	"os"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// Open opens a pseudo-terminal pair and returns its master and the path of
// its slave; both are closed when the test ends. The master is a
// non-blocking copy of pty.Open's (which is blocking, as it called Fd), so
// that it honours read deadlines and a test waiting for bytes that never
// come fails instead of hanging; it is close-on-exec, or a program the test
// starts would hold it open. The slave stays open until the test ends, so
// that the master reads nothing but what the code under test writes,
// before and after it opens the port.
func Open(t testing.TB) (master *os.File, slave string) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	syscall.ForkLock.RLock()
	fd, err := syscall.Dup(int(m.Fd()))
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	m.Close()
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		s.Close()
		t.Fatal(err)
	}
	master = os.NewFile(uintptr(fd), "ptmx")
	t.Cleanup(func() { master.Close(); s.Close() })
	return master, s.Name()
}
