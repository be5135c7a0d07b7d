// Package pionlog bridges pion's LoggerFactory to log/slog, so pion's
// messages land in the component's structured log with its attributes
// (the session id) instead of on stderr.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// LevelTrace is below slog.LevelDebug: pion's trace output is per packet.
const LevelTrace = slog.LevelDebug - 4

// Factory makes pion loggers that write to Log with a "pion" scope
// attribute.
type Factory struct {
	Log *slog.Logger
}

// NewLogger implements logging.LoggerFactory.
func (f Factory) NewLogger(scope string) logging.LeveledLogger {
	return &logger{log: f.Log.With("pion", scope)}
}

type logger struct {
	log *slog.Logger
}

func (l *logger) emit(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

func (l *logger) emitf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l *logger) Trace(msg string)                  { l.emit(LevelTrace, msg) }
func (l *logger) Tracef(format string, args ...any) { l.emitf(LevelTrace, format, args...) }
func (l *logger) Debug(msg string)                  { l.emit(slog.LevelDebug, msg) }
func (l *logger) Debugf(format string, args ...any) { l.emitf(slog.LevelDebug, format, args...) }
func (l *logger) Info(msg string)                   { l.emit(slog.LevelInfo, msg) }
func (l *logger) Infof(format string, args ...any)  { l.emitf(slog.LevelInfo, format, args...) }
func (l *logger) Warn(msg string)                   { l.emit(slog.LevelWarn, msg) }
func (l *logger) Warnf(format string, args ...any)  { l.emitf(slog.LevelWarn, format, args...) }
func (l *logger) Error(msg string)                  { l.emit(slog.LevelError, msg) }
func (l *logger) Errorf(format string, args ...any) { l.emitf(slog.LevelError, format, args...) }
