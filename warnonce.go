package rtcbot

import (
	"log/slog"
	"sync/atomic"
)

// warnOnce logs its first message as a warning and later ones at debug
// level, so a peer or a program that fails in a loop costs one line of the
// log, not a line a message.
type warnOnce struct{ warned atomic.Bool }

func (w *warnOnce) log(l *slog.Logger, msg string, args ...any) {
	if w.warned.CompareAndSwap(false, true) {
		l.Warn(msg, args...)
		return
	}
	l.Debug(msg, args...)
}
