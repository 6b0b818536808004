package rtc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/logging"
)

// pionLogs routes pion's logs to slog. pion asks for a logger per subsystem for every
// PeerConnection; these are cached by scope, so a session costs no logger allocations.
type pionLogs struct {
	log *slog.Logger

	mu     sync.Mutex
	scopes map[string]*pionLog
}

func newPionLogs(log *slog.Logger) *pionLogs {
	return &pionLogs{log: log, scopes: map[string]*pionLog{}}
}

// NewLogger returns the logger of one pion subsystem ("ice", "dtls", "pc", ...).
func (f *pionLogs) NewLogger(scope string) logging.LeveledLogger {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.scopes[scope]
	if !ok {
		l = &pionLog{log: f.log.With("pion", scope)}
		f.scopes[scope] = l
	}
	return l
}

// pionLog maps pion's levels: Error to Warn (pion's errors are mostly a peer's fault: a failed
// handshake, a bad packet), Warn and Info to Debug, Debug and Trace below Debug.
type pionLog struct{ log *slog.Logger }

const levelTrace = slog.LevelDebug - 4

func (l *pionLog) emit(level slog.Level, msg string) { l.log.Log(context.Background(), level, msg) }

func (l *pionLog) emitf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l *pionLog) Trace(msg string)                  { l.emit(levelTrace, msg) }
func (l *pionLog) Tracef(format string, args ...any) { l.emitf(levelTrace, format, args...) }
func (l *pionLog) Debug(msg string)                  { l.emit(levelTrace, msg) }
func (l *pionLog) Debugf(format string, args ...any) { l.emitf(levelTrace, format, args...) }
func (l *pionLog) Info(msg string)                   { l.emit(slog.LevelDebug, msg) }
func (l *pionLog) Infof(format string, args ...any)  { l.emitf(slog.LevelDebug, format, args...) }
func (l *pionLog) Warn(msg string)                   { l.emit(slog.LevelDebug, msg) }
func (l *pionLog) Warnf(format string, args ...any)  { l.emitf(slog.LevelDebug, format, args...) }
func (l *pionLog) Error(msg string)                  { l.emit(slog.LevelWarn, msg) }
func (l *pionLog) Errorf(format string, args ...any) { l.emitf(slog.LevelWarn, format, args...) }
