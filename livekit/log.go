package livekit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-logr/logr"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// The SDK's process-wide logger, which pion's logs under it go to, writes
// every ICE and signaling step to the standard logger by default. This
// package sends it to slog.Default() instead, one level down (as
// sdkLogger does), so that it is quiet unless debugging; a program may
// still set its own with lksdk.SetLogger.
func init() {
	lksdk.SetLogger(protoLogger.LogRLogger(logr.FromSlogHandler(lowered{h: defaultHandler{}})))
}

// sdkLogger returns the logger a room of the LiveKit SDK (and pion under
// it) logs to: log, one level down, with token hidden. The SDK logs every
// step of a join and pion's debugging at Info, and a refused token or a
// lost server (which this package reports itself, once) at Error, with the
// server's answer, which repeats the token; lowered, they are there for
// debugging without drowning the robot's own log.
func sdkLogger(log *slog.Logger, token string) protoLogger.Logger {
	return protoLogger.LogRLogger(logr.FromSlogHandler(lowered{h: log.Handler(), token: token}))
}

// lowered is a slog handler that logs each record one level lower (Error
// as Warn, Warn and Info as Debug, Debug below it), with token, if not
// empty, replaced by "<token>" in its message and attributes.
type lowered struct {
	h     slog.Handler
	token string
}

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
	if l.token == "" {
		r.Level = lower(r.Level)
		return l.h.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, lower(r.Level), l.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(l.redactAttr(a))
		return true
	})
	return l.h.Handle(ctx, out)
}

func (l lowered) WithAttrs(attrs []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		kept[i] = l.redactAttr(a)
	}
	return lowered{h: l.h.WithAttrs(kept), token: l.token}
}

func (l lowered) WithGroup(name string) slog.Handler {
	return lowered{h: l.h.WithGroup(name), token: l.token}
}

func (l lowered) redact(s string) string {
	if l.token == "" {
		return s
	}
	return strings.ReplaceAll(s, l.token, "<token>")
}

// redactAttr hides the token in an attribute's value, in groups too; a
// value that is not a string (an error) is made one if it shows the token.
func (l lowered) redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, l.redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		kept := make([]any, len(group))
		for i, g := range group {
			kept[i] = l.redactAttr(g)
		}
		return slog.Group(a.Key, kept...)
	case slog.KindAny:
		if s := fmt.Sprint(v.Any()); l.token != "" && strings.Contains(s, l.token) {
			return slog.String(a.Key, l.redact(s))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// defaultHandler is the handler of slog.Default() when a record is logged,
// so that a program's slog.SetDefault in main applies to the SDK's logs.
type defaultHandler struct{}

func (defaultHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return slog.Default().Handler().Enabled(ctx, l)
}

func (defaultHandler) Handle(ctx context.Context, r slog.Record) error {
	return slog.Default().Handler().Handle(ctx, r)
}

func (defaultHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return slog.Default().Handler().WithAttrs(attrs)
}

func (defaultHandler) WithGroup(name string) slog.Handler {
	return slog.Default().Handler().WithGroup(name)
}
