package stream

import (
	"sync/atomic"

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
	// batchMax is how many queued packets a worker takes in one pass. It writes them to one viewer
	// after another, so each viewer's packets leave back to back: its SRTP context stays hot in the
	// cache and its socket is woken once per batch instead of once per packet. It only takes what is
	// already queued, so it adds no delay.
	batchMax = 16
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
	batch [batchMax]cached           // the live packets of one pass
	bufs  [batchMax][maxPayload]byte // their payloads
	cbuf  [maxPayload]byte           // a joining binding's cached packet
	hdr   rtp.Header
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
			w.batch[0].e = e
			k := 1
		more:
			for k < batchMax {
				select {
				case e := <-w.events:
					w.batch[k].e = e
					k++
				default:
					break more
				}
			}
			w.fanOutBatch(k)
		}
	}
}

// cached is one packet of a batch, copied out of the ring.
type cached struct {
	e      uint64
	n      int
	ts     uint32
	marker bool
	codec  string
	ok     bool
}

// fanOut writes packet e to every binding of the worker (a batch of one).
func (w *worker) fanOut(e uint64) {
	w.batch[0].e = e
	w.fanOutBatch(1)
}

// fanOutBatch writes the first k packets of the batch to every binding of the worker, one binding
// at a time: live bindings get them, joining bindings get their next cached packets instead until
// they have caught up (and the rest of the batch live once they have).
func (w *worker) fanOutBatch(k int) {
	bs := *w.bindings.Load()
	for i := range k {
		c := &w.batch[i]
		c.n, c.ts, c.marker, c.codec, c.ok = w.t.ring.read(c.e, w.bufs[i][:])
		if !c.ok {
			w.t.dropped.Add(uint64(len(bs))) // overwritten before we got to it
		}
	}
	for _, b := range bs {
		for i := range k {
			c := &w.batch[i]
			switch {
			case !b.live:
				w.catchUp(b, c.e)
			case c.ok && c.e >= b.from:
				w.write(b, c.e, c.ts, c.marker, c.codec, w.bufs[i][:c.n])
			}
		}
	}
}

// catchUp sends a joining binding its cached packets from its cursor towards e: the whole
// keyframe keyframeBurst packets per live packet, then catchUpBurst packets per live packet. Once the cursor passes e the
// binding is live.
func (w *worker) catchUp(b *binding, e uint64) {
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
