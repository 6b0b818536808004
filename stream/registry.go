package stream

import (
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/wisp-media/wisp/datarelay"
)

// RegistryConfig configures a Registry.
type RegistryConfig struct {
	// Relay configures each stream's data relay (queue sizes, message cap, logger).
	Relay datarelay.Config
	// Logger receives stream lifecycle events; nil discards them.
	Logger *slog.Logger
	// Egress, if set, is told when each fan-out pass begins and ends, so the media socket can
	// send a pass's datagrams in one batch (see Egress). Nil sends each packet as it is written.
	Egress Egress
}

// Registry is the concurrent map of stream name → *Stream. It is built once in main and injected
// into the WHIP and WHEP handlers. A Stream exists while it is held: Acquire takes a hold, Release
// gives it back, and the last Release removes the stream and closes its relay.
type Registry struct {
	// set at construction
	cfg RegistryConfig
	log *slog.Logger

	// guarded by mu
	mu      sync.Mutex
	streams map[string]*entry
	closed  bool
}

type entry struct {
	stream *Stream
	holds  int
}

// NewRegistry returns an empty Registry.
func NewRegistry(cfg RegistryConfig) *Registry {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{cfg: cfg, log: log, streams: make(map[string]*entry)}
}

// Acquire returns the named stream, creating it if needed, and takes a hold on it. Each successful
// Acquire must be matched by one Release.
func (r *Registry) Acquire(name string) (*Stream, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	e, ok := r.streams[name]
	if !ok {
		e = &entry{stream: newStream(name, r.cfg.Relay)}
		if r.cfg.Egress != nil {
			e.stream.video.egress, e.stream.audio.egress = r.cfg.Egress, r.cfg.Egress
		}
		r.streams[name] = e
		r.log.Debug("stream created", "stream", name)
	}
	e.holds++
	return e.stream, nil
}

// Release gives back a hold taken by Acquire. The last one removes the stream.
func (r *Registry) Release(s *Stream) {
	r.mu.Lock()
	e, ok := r.streams[s.name]
	if !ok || e.stream != s {
		r.mu.Unlock()
		return
	}
	e.holds--
	last := e.holds <= 0
	if last {
		delete(r.streams, s.name)
	}
	r.mu.Unlock()
	if last {
		s.relay.Close()
		r.log.Debug("stream removed", "stream", s.name)
	}
}

// Get returns the named stream if it exists, without taking a hold.
func (r *Registry) Get(name string) (*Stream, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.streams[name]
	if !ok {
		return nil, false
	}
	return e.stream, true
}

// List returns a snapshot of every stream with its video layers (and the viewers on each) and its
// viewers' outputs, sorted by name.
func (r *Registry) List() []Info {
	r.mu.Lock()
	streams := make([]*Stream, 0, len(r.streams))
	for _, e := range r.streams {
		streams = append(streams, e.stream)
	}
	r.mu.Unlock()
	infos := make([]Info, 0, len(streams))
	for _, s := range streams {
		info := s.Info()
		info.Layers = s.Layers()
		info.Outputs = s.Outputs()
		infos = append(infos, info)
	}
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return infos
}

// Len returns the number of streams.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.streams)
}

// Close refuses further Acquires. Sessions are closed by their owners (the handlers), whose
// Releases then remove the streams.
func (r *Registry) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}
