package stream

import (
	"sync"
	"time"
)

// Resend limits (an Output with a limit set: SetResendLimit).
const (
	// resendSlots is how many of the output's sequence numbers the limiter remembers a resend of:
	// more than a NACK reaches back (pion asks for 512 packets back at most).
	resendSlots = 1024
	// resendSpacing is how long after resending a packet another NACK for it is ignored: the
	// first answer may still be on its way (pion's player asks again every 100 ms, whatever the
	// round trip; a capped path may queue the answer for 300 ms).
	resendSpacing = 250 * time.Millisecond
	// resendTimes is how often one packet is resent at most.
	resendTimes = 3
	// resendDepth is how many seconds of the byte budget may be spent at once (a lost keyframe).
	resendDepth = 0.5
	// resendForget is how long a slot's packet counts as NACKed before: less than the output
	// takes to send 65536 packets (its sequence numbers wrap; at 8 Mbit/s, 80 s), more than a
	// player repeats a NACK.
	resendForget = 30 * time.Second
)

// resendLimiter bounds the retransmissions of one output: each packet at most resendTimes
// times, resendSpacing apart, and all of them within a byte budget that refills at the limit's
// rate (a token bucket resendDepth seconds deep). On a path that is full, a player's NACKs would
// otherwise multiply what it is sent: pion's player asks for every missing packet again every
// 100 ms for as long as it is within 512 packets, and each answer crosses the same full path.
// Memory is constant. Safe for concurrent use.
type resendLimiter struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	tokens float64 // bytes
	at     int64   // Unix ns of the last refill
	slots  [resendSlots]resendSlot
	denied uint64
	nacked uint64 // distinct packets NACKed: the player's loss
}

type resendSlot struct {
	first int64 // Unix ns of the first NACK for it
	at    int64 // Unix ns of the last resend
	seq   uint16
	n     uint8 // resends
	seen  bool
}

// SetResendLimit bounds the output's NACK retransmissions to bps bits per second (and each packet
// to resendTimes answers, resendSpacing apart); 0 removes the bound. Safe for concurrent use: the
// viewer's layer chooser sets it from its bandwidth budget as that changes.
func (o *Output) SetResendLimit(bps float64) {
	if bps <= 0 {
		o.resend.Store(nil)
		return
	}
	l := o.resend.Load()
	if l == nil {
		l = &resendLimiter{tokens: bps / 8 * resendDepth, at: time.Now().UnixNano()}
		if !o.resend.CompareAndSwap(nil, l) {
			l = o.resend.Load()
		}
	}
	if l != nil {
		l.mu.Lock()
		l.rate = bps / 8
		l.mu.Unlock()
	}
}

// ResendDenied returns how many NACKed packets the output's limit left unanswered.
func (o *Output) ResendDenied() uint64 {
	l := o.resend.Load()
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.denied
}

// allow reports whether the packet the viewer numbered seq, of size bytes, may be resent at now,
// and if so counts it.
func (l *resendLimiter) allow(now int64, seq uint16, size int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens = min(l.tokens+float64(now-l.at)/1e9*l.rate, l.rate*resendDepth)
	l.at = now
	s := &l.slots[int(seq)%resendSlots]
	if !s.seen || s.seq != seq || now-s.first > int64(resendForget) {
		// A packet not NACKed before. pion's player asks again for a lost packet as long as it
		// is within 512 packets (20 s of a low layer): those repeats are no new loss, and get no
		// more answers than the first NACK's.
		*s = resendSlot{seq: seq, seen: true, first: now}
		l.nacked++
	}
	if (s.n > 0 && now-s.at < int64(resendSpacing)) || s.n >= resendTimes || l.tokens < float64(size) {
		l.denied++
		return false
	}
	l.tokens -= float64(size)
	s.at, s.n = now, s.n+1
	return true
}

// Resent returns how many packets the output retransmitted in answer to NACKs.
func (o *Output) Resent() uint64 { return o.stats.resent.Load() }

// Losses returns the media packets the output sent and how many distinct ones of them its viewer
// reported lost (NACKed; counted only while a resend limit is set): a loss rate that comes within
// a NACK interval, where receiver reports come once a second.
func (o *Output) Losses() (sent, nacked uint64) {
	sent = o.stats.sent.Load()
	if l := o.resend.Load(); l != nil {
		l.mu.Lock()
		nacked = l.nacked
		l.mu.Unlock()
	}
	return sent, nacked
}
