package stream

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Fan-out tuning.
const (
	// workerQueue is how many packets a fan-out worker may be behind its Feeds before new ones
	// are dropped for its viewers (DropQueueFull): about 4 s of 2.7 Mbit/s video.
	workerQueue = 1024
	// spreadAt is the output count from which new outputs go to the least-loaded worker instead
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

// worker writes a Track's packets to its share of the outputs, on its own goroutine, so a Feed's
// producer never waits on a viewer and many viewers spread over the cores. Packets reach it as
// events (a Feed and an extended sequence number); it copies each one out of the Feed's ring
// once, if an output of its needs it, and writes it to every output that follows that Feed (or
// switches to it at this packet).
type worker struct {
	// set at construction
	t      *Track
	events chan event

	// guarded by t.mu; outputs is copy-on-write so run reads it without a lock
	outputs atomic.Pointer[[]*Output]
	running bool
	quit    chan struct{} // closed to stop the current run
	done    chan struct{} // closed when the current run returns
	count   atomic.Int32  // len(*outputs), read by Feeds without a lock

	// owned by run
	batch [batchMax]cached           // the events of one pass
	bufs  [batchMax][maxPayload]byte // their payloads
	cbuf  [maxPayload]byte           // a joining output's cached packet
	hdr   rtp.Header
}

// event is one packet of a Feed, ready in its ring.
type event struct {
	f *Feed
	e uint64
}

// cached is one event of a batch and, once loaded, its packet copied out of the ring.
type cached struct {
	event
	n      int
	m      meta
	st     readStatus
	loaded bool
}

func newWorker(t *Track) *worker {
	w := &worker{t: t, events: make(chan event, workerQueue)}
	w.outputs.Store(&[]*Output{})
	return w
}

// setOutputs replaces the worker's outputs and starts or stops its goroutine. Caller holds t.mu.
// A new run waits for the previous one to return, so one goroutine at a time owns the outputs.
func (w *worker) setOutputs(next []*Output) {
	w.outputs.Store(&next)
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
		case ev := <-w.events:
			w.batch[0].event = ev
			k := 1
		more:
			for k < batchMax {
				select {
				case ev := <-w.events:
					w.batch[k].event = ev
					k++
				default:
					break more
				}
			}
			w.fanOutBatch(k)
		}
	}
}

// missed counts an event the worker's queue had no room for, for each live output following f.
// It runs on the Feed's goroutine; outputs is read without a lock (copy-on-write).
func (w *worker) missed(f *Feed) {
	for _, o := range *w.outputs.Load() {
		if o.feed.Load() == f && o.live.Load() {
			o.stats.offered.Add(1)
			o.stats.queueFull.Add(1)
			w.t.dropped.Add(1)
		}
	}
}

// fanOut handles one event (a batch of one).
func (w *worker) fanOut(f *Feed, e uint64) {
	w.batch[0].event = event{f, e}
	w.fanOutBatch(1)
}

// fanOutBatch hands the first k events of the batch to every output of the worker, one output at
// a time: a live output gets the packets of the Feed it follows, and switches to the Feed it
// wants at a packet that allows it (Output.canSwitch); a joining output gets its next cached
// packets instead until it has caught up (and the rest of the batch live once it has). The pass
// is bracketed by the Track's Egress, so its datagrams may leave the socket together at its end.
func (w *worker) fanOutBatch(k int) {
	eg := w.t.egress
	eg.BeginPass()
	defer eg.EndPass()
	outs := *w.outputs.Load()
	current := w.t.current.Load()
	for i := range k {
		w.batch[i].loaded = false
	}
	for _, o := range outs {
		feed, want, live := o.feed.Load(), o.want(current), o.live.Load()
		for i := range k {
			c := &w.batch[i]
			switch {
			case c.f == feed && c.e < o.from:
				// queued before the output started (or switched): stale
			case !live:
				if c.f == feed {
					w.catchUp(o, feed, c.e)
					live = o.live.Load()
				}
			case c.f == feed:
				w.send(o, c, i)
			case c.f == want && want != nil:
				if w.load(c, i); c.st == readOK && o.canSwitch(c.f, c.m) {
					o.switchTo(c.f, c.e, c.m)
					feed = c.f
					w.send(o, c, i)
				} else if c.st == readOK {
					o.askKeyframe(w.t, c.f, c.m.at) // it waits for this Feed's keyframe
				}
			}
		}
	}
}

// load copies batch entry i out of its Feed's ring, once per batch.
func (w *worker) load(c *cached, i int) {
	if !c.loaded {
		c.n, c.m, c.st = c.f.ring.read(c.e, w.bufs[i][:])
		c.loaded = true
	}
}

// send writes batch entry i to o, or counts it overwritten if it left the ring first.
func (w *worker) send(o *Output, c *cached, i int) {
	w.load(c, i)
	if c.st != readOK {
		w.lost(o, c.f)
		return
	}
	w.write(o, c.f, c.e, c.m, w.bufs[i][:c.n])
}

// lost counts a packet of f that o was due to send but the ring no longer held.
func (w *worker) lost(o *Output, f *Feed) {
	if _, ok := o.payloadType(f); !ok {
		return
	}
	o.stats.offered.Add(1)
	o.stats.overwritten.Add(1)
	w.t.dropped.Add(1)
}

// catchUp sends a joining output its cached packets from its cursor towards e: the whole keyframe
// keyframeBurst packets per live packet, then catchUpBurst packets per live packet. Once the
// cursor passes e the output is live.
func (w *worker) catchUp(o *Output, f *Feed, e uint64) {
	buf := w.cbuf[:]
	for i := 0; o.cursor <= e; i++ {
		c := o.cursor
		n, m, st := f.ring.read(c, buf)
		if i >= keyframeBurst || (i >= catchUpBurst && !(st == readOK && m.ts == o.keyTS)) {
			break
		}
		o.cursor++
		switch st {
		case readOK:
			w.write(o, f, c, m, buf[:n])
		case readGone:
			w.lost(o, f)
		}
		// readHole: never received; the viewer's NACK or PLI recovers
	}
	if o.cursor > e {
		o.live.Store(true)
	}
}

// write sends packet e of f to o with o's payload type, SSRC, sequence number and timestamp.
func (w *worker) write(o *Output, f *Feed, e uint64, m meta, payload []byte) {
	pt, ok := o.payloadType(f)
	if !ok {
		return // this viewer did not negotiate the Feed's codec
	}
	out := e + o.seqOff
	ts := o.timestamp(out, m.ts+o.tsOff)
	h := &w.hdr
	h.Version, h.Marker, h.PayloadType = 2, m.marker, pt
	h.SequenceNumber, h.Timestamp, h.SSRC = uint16(out), ts, o.ssrc
	o.stats.offered.Add(1)
	// A failed write concerns one viewer only (closing, congested); it never stops the others.
	if _, err := o.writer.WriteRTP(h, payload); err != nil {
		o.stats.writeError.Add(1)
	} else {
		o.stats.sent.Add(1)
		if o.firstSent.Load() == 0 { // one atomic load per packet; the clock once per output
			o.firstSent.Store(time.Now().UnixNano())
		}
	}
	if out > o.lastOut.Load() {
		o.lastOut.Store(out)
		o.lastTS, o.lastAt = ts, m.at
	}
}
