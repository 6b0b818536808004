package metrics

import "time"

// Session kinds, the values of the kind label.
const (
	KindWHIP = "whip"
	KindWHEP = "whep"
)

// Sample is what one session has done so far. Every counter only grows over the session's life,
// and the session keeps answering with its final values after it ended.
type Sample struct {
	BytesIn, BytesOut          uint64            // on its ICE transport (SRTP, SRTCP, DTLS, SCTP)
	VideoPackets, AudioPackets uint64            // RTP packets sent to a viewer
	Dropped                    map[string]uint64 // packets not delivered to a viewer, by reason
	Retransmitted              uint64            // packets resent in answer to the viewer's NACKs
	NACKs                      uint64            // NACK packets received from the viewer
	KeyframeRequests           uint64            // PLI and FIR received from the viewer
	// Joined is the time from the POST to the first keyframe written to the viewer; 0 until then.
	Joined time.Duration
}

// add adds o to s.
func (s *Sample) add(o Sample) {
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.VideoPackets += o.VideoPackets
	s.AudioPackets += o.AudioPackets
	s.Retransmitted += o.Retransmitted
	s.NACKs += o.NACKs
	s.KeyframeRequests += o.KeyframeRequests
	for r, n := range o.Dropped {
		if s.Dropped == nil {
			s.Dropped = make(map[string]uint64, len(o.Dropped))
		}
		s.Dropped[r] += n
	}
}

// Session is a WHIP or WHEP session as the metrics read it.
type Session interface {
	StreamName() string
	// Sample reads the session's counters; cheap (atomic loads), safe from any goroutine.
	Sample() Sample
	// Done is closed once the session has ended.
	Done() <-chan struct{}
}

// StreamState is one stream as the metrics read it at a scrape.
type StreamState struct {
	Name    string
	Live    bool // a publisher is connected
	Viewers int
	// Data-channel messages relayed to viewers over the stream's life.
	RelayDelivered, RelayDropped uint64
}

// DirectorySource is a Source of a cluster node: whether the cluster directory (Redis) answered
// the node's last registration. ok is false on a single node (no wisp_cluster_directory_up).
type DirectorySource interface {
	DirectoryUp() (up, ok bool)
}

// Source is the server as the metrics read it at a scrape.
type Source interface {
	// Streams lists every stream the server holds.
	Streams() []StreamState
	// Sessions is the number of live sessions of a kind.
	Sessions(kind string) int
}
