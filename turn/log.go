package turn

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs turns pion/turn's log lines into slog records at debug level: what it reports is a
// client's doing (bad credentials, expired allocations), not wisp's.
type pionLogs struct{ log *slog.Logger }

// NewLogger implements logging.LoggerFactory.
func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLog{f.log.With("pion", scope)}
}

type pionLog struct{ log *slog.Logger }

func (l pionLog) emit(msg string) { l.log.Log(context.Background(), slog.LevelDebug, msg) }
func (l pionLog) emitf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.emit(fmt.Sprintf(format, args...))
	}
}

func (l pionLog) Trace(string)          {}
func (l pionLog) Tracef(string, ...any) {}
func (l pionLog) Debug(string)          {}
func (l pionLog) Debugf(string, ...any) {}
func (l pionLog) Info(m string)         { l.emit(m) }
func (l pionLog) Infof(f string, a ...any) {
	l.emitf(f, a...)
}
func (l pionLog) Warn(m string)             { l.emit(m) }
func (l pionLog) Warnf(f string, a ...any)  { l.emitf(f, a...) }
func (l pionLog) Error(m string)            { l.emit(m) }
func (l pionLog) Errorf(f string, a ...any) { l.emitf(f, a...) }
