package livekit

import (
	"context"
	"log/slog"

	"github.com/go-logr/logr"
	protoLogger "github.com/livekit/protocol/logger"
)

// sdkLogger returns the logger the LiveKit SDK (and pion under it) logs
// to: log, one level down. The SDK logs every step of a join and pion's
// debugging at Info, and a refused token or a lost server (which this
// package reports itself, once) at Error; lowered, they are there for
// debugging without drowning the robot's own log.
func sdkLogger(log *slog.Logger) protoLogger.Logger {
	return protoLogger.LogRLogger(logr.FromSlogHandler(lowered{log.Handler()}))
}

// lowered is a slog handler that logs each record one level lower: Error
// as Warn, Warn and Info as Debug, Debug below it.
type lowered struct{ h slog.Handler }

func lower(l slog.Level) slog.Level {
	switch {
	case l >= slog.LevelError:
		return slog.LevelWarn
	case l >= slog.LevelInfo:
		return slog.LevelDebug
	}
	return l - 4
}

func (l lowered) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, lower(level))
}

func (l lowered) Handle(ctx context.Context, r slog.Record) error {
	r.Level = lower(r.Level)
	return l.h.Handle(ctx, r)
}

func (l lowered) WithAttrs(attrs []slog.Attr) slog.Handler { return lowered{l.h.WithAttrs(attrs)} }

func (l lowered) WithGroup(name string) slog.Handler { return lowered{l.h.WithGroup(name)} }
