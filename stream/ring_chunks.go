package stream

import (
	"sync"
	"sync/atomic"
)

// chunkSize is the unit in which rings hold payload bytes: 8 KiB, about 25 ms of 2.7 Mbit/s
// video and 1.4 s of 48 kbit/s Opus. Payloads are written back to back across chunk boundaries,
// so a ring wastes only the unfilled part of the chunk it is writing.
const chunkSize = 8 << 10

// chunk is a block of payload bytes lent to a ring by the chunk pool.
type chunk [chunkSize]byte

// chunkPool lends fixed-size chunks to every ring of the process and takes them back, so a ring
// holds only the chunks its needed packets occupy, and rings growing and shrinking as GOPs come
// and go trade chunks through the pool instead of leaving arenas behind for the garbage
// collector. Each ring returns about a second of media when a keyframe arrives and takes it back
// over the next second, so free chunks are taken again long before a collection; those that sit
// free through two collections go (sync.Pool), so the pool keeps no more than the rings' swing.
// It has no lock of its own, so a ring may use it under its lock.
type chunkPool struct {
	free sync.Pool // of *chunk
	lent atomic.Int64
}

// chunks is the pool shared by all Feeds' rings.
var chunks chunkPool

// get lends a chunk, a free one if there is one. Its contents are whatever its last ring wrote.
func (p *chunkPool) get() *chunk {
	p.lent.Add(1)
	if c, ok := p.free.Get().(*chunk); ok {
		return c
	}
	return new(chunk)
}

// put takes back the chunks of hs, lent by get; the caller must not touch them afterwards.
func (p *chunkPool) put(hs []held) {
	for _, h := range hs {
		p.free.Put(h.c)
	}
	p.lent.Add(-int64(len(hs)))
}
