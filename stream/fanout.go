package stream

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Fan-out tuning.
const (
	// workerQueue is how many packets a fan-out worker may be behind the publisher before new
	// ones are dropped for its viewers (counted in Track.Dropped): about 4 s of 2.7 Mbit/s video.
	workerQueue = 1024
	// spreadAt is the binding count from which new bindings go to the least-loaded worker instead
	// of the first, spreading the fan-out over the cores.
	spreadAt = 32
	// catchUpBurst is how many cached packets a joining viewer gets per live packet until it has
	// caught up with live: it replays the GOP at about catchUpBurst× real time.
	catchUpBurst = 4
	// keyframeBurst is how many packets of the cached keyframe a joining viewer gets per live
	// packet: the picture comes fast, and a burst stays well inside a receive buffer (Linux's
	// default 208 KiB holds about 90 datagrams).
	keyframeBurst = 24
	// catchUpDelay is how long after Bind a joining viewer's replay starts (see catchUpFrom).
	catchUpDelay = 30 * time.Millisecond
)

// worker writes a Track's packets to its share of the bindings, on its own goroutine, so the
// publisher's read loop never waits on a viewer and many viewers spread over the cores. Packets
// reach it as extended sequence numbers; it copies each one out of the ring once and writes it to
// every binding it owns.
type worker struct {
	// set at construction
	t      *Track
	events chan uint64

	// guarded by t.mu; bindings is copy-on-write so run reads it without a lock
	bindings atomic.Pointer[[]*binding]
	running  bool
	quit     chan struct{} // closed to stop the current run
	done     chan struct{} // closed when the current run returns
	count    atomic.Int32  // len(*bindings), read by the publisher without a lock

	// owned by run
	buf, cbuf [maxPayload]byte // the live packet; a joining binding's cached packet
	hdr       rtp.Header
}

func newWorker(t *Track) *worker {
	w := &worker{t: t, events: make(chan uint64, workerQueue)}
	w.bindings.Store(&[]*binding{})
	return w
}

// setBindings replaces the worker's bindings and starts or stops its goroutine. Caller holds t.mu.
// A new run waits for the previous one to return, so one goroutine at a time owns the bindings.
func (w *worker) setBindings(next []*binding) {
	w.bindings.Store(&next)
	w.count.Store(int32(len(next)))
	switch {
	case len(next) > 0 && !w.running:
		prev := w.done
		w.running, w.quit, w.done = true, make(chan struct{}), make(chan struct{})
		w.t.wg.Add(1)
		go w.run(prev, w.quit, w.done)
	case len(next) == 0 && w.running:
		w.running = false
		close(w.quit)
	}
}

func (w *worker) run(prev, quit, done chan struct{}) {
	defer w.t.wg.Done()
	defer close(done)
	if prev != nil {
		<-prev
	}
	for {
		select {
		case <-quit:
			return
		case e := <-w.events:
			w.fanOut(e)
		}
	}
}

// fanOut writes packet e to every binding of the worker: live bindings get it, joining bindings
// get their next cached packets instead until they have caught up.
func (w *worker) fanOut(e uint64) {
	bs := *w.bindings.Load()
	n, ts, marker, codec, ok := w.t.ring.read(e, w.buf[:])
	if !ok {
		w.t.dropped.Add(uint64(len(bs))) // overwritten before we got to it
		return
	}
	for _, b := range bs {
		if b.live {
			w.write(b, e, ts, marker, codec, w.buf[:n])
			continue
		}
		w.catchUp(b, e)
	}
}

// catchUp sends a joining binding its cached packets from its cursor towards e: the whole
// keyframe keyframeBurst packets per live packet, then catchUpBurst packets per live packet. Once the cursor passes e the
// binding is live.
func (w *worker) catchUp(b *binding, e uint64) {
	if time.Now().UnixNano() < b.start {
		return
	}
	buf := w.cbuf[:]
	for i := 0; b.cursor <= e; i++ {
		c := b.cursor
		n, ts, marker, codec, ok := w.t.ring.read(c, buf)
		if i >= keyframeBurst || (i >= catchUpBurst && !(ok && ts == b.keyTS)) {
			break
		}
		b.cursor++
		if !ok {
			continue // never received, or overwritten: the viewer's NACK or PLI recovers
		}
		w.write(b, c, ts, marker, codec, buf[:n])
	}
	if b.cursor > e {
		b.live = true
	}
}

// write sends one packet to one binding with its payload type, SSRC and timestamp mapping.
func (w *worker) write(b *binding, e uint64, ts uint32, marker bool, codec string, payload []byte) {
	pt, ok := b.pt[codec]
	if !ok {
		return // this viewer did not negotiate the publisher's codec
	}
	h := &w.hdr
	h.Version, h.Marker, h.PayloadType = 2, marker, pt
	h.SequenceNumber, h.Timestamp, h.SSRC = uint16(e), b.timestamp(ts), b.ssrc
	// A failed write concerns one viewer only (closing, congested); it never stops the others.
	if _, err := b.writer.WriteRTP(h, payload); err != nil {
		b.failed.Add(1)
	}
}
