package pull

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/cluster"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// Directory is what an Edge asks of the cluster's directory (cluster.Directory is one).
type Directory interface {
	Lookup(ctx context.Context, stream string) (cluster.Owner, error)
}

// Config is what an Edge is given by main.
type Config struct {
	Directory Directory
	Signer    *cluster.Signer
	Node      string // this node's id: a stream it owns is not pulled
	Registry  *stream.Registry
	// API builds the pulls' PeerConnections; nil: the client's own (one private API a pull).
	API *webrtc.API
	// Idle is how long a pull outlives its last viewer (default 30 s).
	Idle time.Duration
	// Poll is how often a watched stream's owner is looked up (default 500 ms): a new owner is
	// pulled from within about this long.
	Poll time.Duration
	// KeyframeInterval is the least time between two PLIs sent upstream (default 500 ms).
	KeyframeInterval time.Duration
	// JoinWait bounds how long the first viewers of a stream wait, in Watch, for its new pull to
	// bring its video in (every layer of a simulcast stream), so they negotiate knowing the
	// layers, as on the owner (default 2 s).
	JoinWait time.Duration
	Logger   *slog.Logger
}

// Edge keeps one pull per watched stream. Safe for concurrent use.
type Edge struct {
	// set at construction
	cfg    Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	hc     *http.Client

	// guarded by mu
	mu      sync.Mutex
	watched map[string]*watched
	wg      sync.WaitGroup // the loops; Add only under mu while !closed
	closed  bool
}

// watched is one stream with local viewers (or a lingering pull).
type watched struct {
	st        *stream.Stream
	ready     chan struct{} // closed once the first pull's video is in, or there is none
	readyOnce sync.Once
	viewers   int       // guarded by Edge.mu
	idle      time.Time // when viewers last reached 0; guarded by Edge.mu
	pulling   bool      // a pull is up (for Watch's decision); guarded by Edge.mu
}

func (w *watched) markReady() { w.readyOnce.Do(func() { close(w.ready) }) }

// New returns an Edge whose pulls live until Close.
func New(cfg Config) *Edge {
	if cfg.Idle <= 0 {
		cfg.Idle = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if cfg.KeyframeInterval <= 0 {
		cfg.KeyframeInterval = 500 * time.Millisecond
	}
	if cfg.JoinWait <= 0 {
		cfg.JoinWait = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Edge{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel, watched: make(map[string]*watched),
		// Pulls never follow redirects (a loop between nodes must not start) and never wait long.
		hc: &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
}

// Watch is told of a viewer of st joining; see whep.Cluster. A stream with a local publisher,
// or already pulled, needs no directory; otherwise the owner is looked up now, so a viewer that
// would need a new pull while the directory is away is refused with 503 + Retry-After. The first
// viewers of a new pull wait for its video to come in (JoinWait at most).
func (e *Edge) Watch(st *stream.Stream) (func(), error) {
	local := e.hasLocalPublisher(st)
	e.mu.Lock()
	w := e.watched[st.Name()]
	needLookup := (w == nil || !w.pulling) && !local
	e.mu.Unlock()
	if needLookup {
		ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
		_, err := e.cfg.Directory.Lookup(ctx, st.Name())
		cancel()
		if err != nil && !errors.Is(err, cluster.ErrNoOwner) {
			u := wish.Errorf(http.StatusServiceUnavailable, "Service Unavailable",
				"the cluster directory is unavailable: stream %s cannot be pulled from its node now", st.Name())
			u.Header.Set("Retry-After", "2")
			return nil, u
		}
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, stream.ErrClosed
	}
	w = e.watched[st.Name()]
	if w == nil || w.st != st {
		w = &watched{st: st, ready: make(chan struct{})}
		e.watched[st.Name()] = w
		e.wg.Add(1)
		go e.loop(w)
	}
	w.viewers++
	e.mu.Unlock()
	if !local {
		t := time.NewTimer(e.cfg.JoinWait)
		select {
		case <-w.ready:
		case <-t.C:
		}
		t.Stop()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if w.viewers--; w.viewers == 0 {
				w.idle = time.Now()
			}
		})
	}, nil
}

// hasLocalPublisher reports whether st has a publisher that is not a pull.
func (e *Edge) hasLocalPublisher(st *stream.Stream) bool {
	p := st.Publisher()
	_, isPull := p.(*session)
	return p != nil && !isPull
}

// Pulls is the number of streams pulled now.
func (e *Edge) Pulls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, w := range e.watched {
		if w.pulling {
			n++
		}
	}
	return n
}

// Close ends every pull and waits for the loops.
func (e *Edge) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
}

// loop keeps w's stream pulled from its owner while it has viewers, and a while after.
func (e *Edge) loop(w *watched) {
	defer e.wg.Done()
	defer w.markReady()
	name := w.st.Name()
	st, err := e.cfg.Registry.Acquire(name) // the loop's own hold: the pull outlives viewers for Idle
	if err != nil {
		e.forget(w)
		return
	}
	defer e.cfg.Registry.Release(st)
	var cur *session
	defer func() { cur.Close() }()
	tick := time.NewTicker(e.cfg.Poll)
	defer tick.Stop()
	for {
		if e.ended(w) {
			return
		}
		cur = e.step(st, cur)
		e.mu.Lock()
		w.pulling = cur != nil
		e.mu.Unlock()
		e.awaitVideo(w, cur)
		// A pull the owner ends (its layers changed) is replaced at once, unless it had only
		// just begun: then at the next tick, so a pull that keeps failing is retried at Poll.
		var gone <-chan struct{}
		if cur != nil && time.Since(cur.started) >= e.cfg.Poll {
			gone = cur.view.Ended()
		}
		select {
		case <-e.ctx.Done():
			e.forget(w)
			return
		case <-tick.C:
		case <-gone:
		}
	}
}

// awaitVideo marks w ready once its pull's video is in (JoinWait at most), or at once without a
// pull; only the first time.
func (e *Edge) awaitVideo(w *watched, cur *session) {
	select {
	case <-w.ready:
		return
	default:
	}
	if cur != nil {
		t := time.NewTimer(e.cfg.JoinWait)
		select {
		case <-cur.videoIn():
		case <-cur.view.Ended():
		case <-e.ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	w.markReady()
}

// step looks the owner up once and returns the pull to keep (nil for none).
func (e *Edge) step(st *stream.Stream, cur *session) *session {
	if cur != nil && cur.ended() {
		cur.Close()
		cur = nil
	}
	if e.hasLocalPublisher(st) {
		cur.Close()
		return nil
	}
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Poll+time.Second)
	owner, err := e.cfg.Directory.Lookup(ctx, st.Name())
	cancel()
	switch {
	case errors.Is(err, cluster.ErrNoOwner), err == nil && owner.Node == e.cfg.Node:
		if cur != nil {
			e.log.Info("pull ended: the stream has no other owner", "stream", st.Name(), "from", cur.owner.Node)
			e.closeLater(cur)
		}
		return nil
	case err != nil:
		return cur // the directory is away: serve on with what there is
	}
	if cur != nil && cur.owner.Node == owner.Node && cur.owner.URL == owner.URL {
		return cur
	}
	if cur != nil {
		e.log.Info("stream moved: pulling from its new owner", "stream", st.Name(), "from", cur.owner.Node, "to", owner.Node, "epoch", owner.Epoch)
		e.closeLater(cur)
	}
	next, err := e.start(st, owner)
	if err != nil {
		e.log.Warn("pull failed", "stream", st.Name(), "owner", owner.Node, "err", err)
		return nil
	}
	return next
}

// closeLater detaches a pull from its stream now and closes it on a goroutine of the Edge: its
// DELETE may wait on an owner that is frozen or gone, and the next pull must not wait for that.
// Called from a loop, so the WaitGroup is above zero.
func (e *Edge) closeLater(s *session) {
	s.detach()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		s.Close()
	}()
}

// ended reports whether w's loop should end: no viewer for the idle time, or shutdown. It
// forgets w under the same lock, so a viewer arriving after starts a new loop.
func (e *Edge) ended(w *watched) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx.Err() == nil && (w.viewers > 0 || time.Since(w.idle) < e.cfg.Idle) {
		return false
	}
	if e.watched[w.st.Name()] == w {
		delete(e.watched, w.st.Name())
	}
	return true
}

func (e *Edge) forget(w *watched) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.watched[w.st.Name()] == w {
		delete(e.watched, w.st.Name())
	}
}

// start opens a pull of st from owner.
func (e *Edge) start(st *stream.Stream, owner cluster.Owner) (*session, error) {
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	s, err := open(ctx, e, st, owner)
	if err != nil {
		return nil, fmt.Errorf("pull %s from %s: %w", st.Name(), owner.Node, err)
	}
	e.log.Info("pulling", "stream", st.Name(), "from", owner.Node, "epoch", owner.Epoch)
	return s, nil
}
