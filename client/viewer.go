package client

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// ViewOptions configures View. The zero value asks for nothing; set Video and/or Audio.
type ViewOptions struct {
	Video bool // add a recvonly video transceiver
	// VideoSections, with Video, is how many recvonly video transceivers to add (0 is 1): a wisp
	// node pulling a simulcast stream from its owner offers one per layer it can take; the owner
	// answers each layer on its own section, the rest without a track.
	VideoSections int
	Audio         bool // add a recvonly audio transceiver
	// DataChannel, if not empty, creates a data channel with this label before the offer, so the
	// offer carries m=application and the server can relay publisher messages (WHEP-08).
	DataChannel string
	// PLIOnStart sends one PLI when a video track starts. Off by default: sending a keyframe to
	// a joining viewer is the server's job, and tests should see whether it does.
	PLIOnStart bool
	Token      string       // sent as "Authorization: Bearer <Token>" when not empty (RFC 9725 §4.7.1)
	API        *webrtc.API  // nil: a private API whose sockets Kill can cut (loopback-only for a loopback endpoint)
	HTTPClient *http.Client // nil: http.DefaultClient
	// Config is the PeerConnection's configuration: ICE servers, a relay-only transport policy.
	Config webrtc.Configuration
	// OnTrack, if set, takes over each remote track instead of the Viewer's own read loop (no
	// frames, audio packets or packet records are kept for it): it runs on a goroutine the Viewer
	// owns and must return once reading the track fails (Close ends every track). A server
	// relaying the stream (wisp's pull from another node) writes the packets on this way.
	OnTrack func(*webrtc.TrackRemote)
	// OnMessage, if set, receives every data channel message instead of Messages. It runs on
	// pion's read loop, in order, and must not block.
	OnMessage func(Message)
}

// AudioPacket is one RTP packet of the audio track.
type AudioPacket struct {
	Data           []byte // the RTP payload (one Opus packet)
	Timestamp      uint32
	SequenceNumber uint16
	At             time.Time
}

// Viewer is one WHEP session (WHEP-03 §4.2): a receive-only PeerConnection that records every
// RTP packet it gets, reassembles video frames and collects data channel messages.
//
// Frames, AudioPackets and Messages are buffered (1024 items each); when a reader falls behind,
// new items are dropped and counted in Stats, so the read loops never block. The channels are
// never closed: select on Ended or a timeout as well.
type Viewer struct {
	// set at construction
	s      *session
	opt    ViewOptions
	dc     *outbox // nil without ViewOptions.DataChannel
	in     *inbox
	frames chan Frame
	audio  chan AudioPacket

	// each guarded by its own mutex; written only by that kind's track readers
	videoLog, audioLog trackLog
}

// View negotiates a WHEP session with endpoint: it adds recvonly transceivers (and the data
// channel), waits for ICE gathering to complete, POSTs the offer, requires 201 with a Location
// and applies the answer. ctx bounds the negotiation only; the session lives until Close or Kill.
func View(ctx context.Context, endpoint string, opt ViewOptions) (*Viewer, error) {
	if !opt.Video && !opt.Audio && opt.DataChannel == "" {
		return nil, fmt.Errorf("view: %w", ErrNoMedia)
	}
	s, err := newSession(opt.API, opt.Config, opt.HTTPClient, opt.Token, endpoint)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	v := &Viewer{
		s:      s,
		opt:    opt,
		in:     newInbox(opt.OnMessage),
		frames: make(chan Frame, inboxSize),
		audio:  make(chan AudioPacket, inboxSize),
	}
	if err := v.setup(); err != nil {
		_ = s.teardown(false)
		return nil, fmt.Errorf("view: %w", err)
	}
	if err := s.negotiate(ctx, endpoint); err != nil {
		_ = s.teardown(true)
		return nil, fmt.Errorf("view %s: %w", endpoint, err)
	}
	return v, nil
}

func (v *Viewer) setup() error {
	recv := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	for _, k := range []struct {
		want bool
		kind webrtc.RTPCodecType
	}{{v.opt.Video, webrtc.RTPCodecTypeVideo}, {v.opt.Audio, webrtc.RTPCodecTypeAudio}} {
		if !k.want {
			continue
		}
		n := 1
		if k.kind == webrtc.RTPCodecTypeVideo {
			n = max(1, v.opt.VideoSections)
		}
		for range n {
			if _, err := v.s.pc.AddTransceiverFromKind(k.kind, recv); err != nil {
				return fmt.Errorf("add %s transceiver: %w", k.kind, err)
			}
		}
	}
	if v.opt.DataChannel != "" {
		o, err := newOutbox(v.s.pc, v.opt.DataChannel)
		if err != nil {
			return err
		}
		v.dc = o
		v.in.attach(o.dc)
	}
	v.s.pc.OnDataChannel(v.in.attach) // channels the server opens on the same association
	v.s.pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if v.opt.OnTrack != nil {
			v.s.spawn(func() { v.opt.OnTrack(t) })
			return
		}
		v.s.spawn(func() { v.receive(t) })
	})
	return nil
}

// Frames delivers reassembled video frames in arrival order.
func (v *Viewer) Frames() <-chan Frame { return v.frames }

// AudioPackets delivers audio RTP packets in arrival order.
func (v *Viewer) AudioPackets() <-chan AudioPacket { return v.audio }

// Messages delivers data channel messages, from the channel View created and from any channel
// the server opens.
func (v *Viewer) Messages() <-chan Message { return v.in.ch }

// DataOpen is closed when the data channel View created is open; nil without one.
func (v *Viewer) DataOpen() <-chan struct{} {
	if v.dc == nil {
		return nil
	}
	return v.dc.open
}

// Send writes a binary message on the data channel View created (a player talking back); it
// never waits. ErrNoDataChannel without one, ErrNotOpen before it opens.
func (v *Viewer) Send(data []byte) error { return v.dc.send(data, false) }

// SendText writes a text message on the data channel View created; see Send.
func (v *Viewer) SendText(s string) error { return v.dc.send([]byte(s), true) }

// CloseDataChannel closes the data channel View created, leaving the media running.
func (v *Viewer) CloseDataChannel() error {
	if v.dc == nil {
		return ErrNoDataChannel
	}
	if err := v.dc.dc.Close(); err != nil {
		return fmt.Errorf("close data channel %q: %w", v.dc.dc.Label(), err)
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (v *Viewer) Stats() ViewerStats {
	return ViewerStats{
		Video:           v.videoLog.snapshot(),
		Audio:           v.audioLog.snapshot(),
		Messages:        v.in.count.Load(),
		MessagesDropped: v.in.dropped.Load(),
	}
}

// Packets returns the latest (up to 4096) packet records of one kind, oldest first.
func (v *Viewer) Packets(kind webrtc.RTPCodecType) []PacketRecord {
	return v.log(kind).records()
}

// Answer is the SDP answer the server returned.
func (v *Viewer) Answer() string { return v.s.res.answer }

// WriteRTCP sends RTCP to the server over the session's SRTCP, such as feedback the caller
// builds itself (cmd/wisp-load's transport-cc feedback from counted packets).
func (v *Viewer) WriteRTCP(pkts []rtcp.Packet) error { return v.s.pc.WriteRTCP(pkts) }

// TransportBytes returns the bytes sent and received on the session's ICE transport (SRTP, SRTCP,
// DTLS, SCTP): what went over the wire, for comparing with a server's byte counters.
func (v *Viewer) TransportBytes() (sent, received uint64) {
	st := v.s.pc.SCTP().Transport().ICETransport().Stats()
	return st.BytesSent, st.BytesReceived
}

// Location returns the absolute session URL from the 201.
func (v *Viewer) Location() string { return v.s.res.location }

// ETag returns the ETag of the 201, quotes included, or "".
func (v *Viewer) ETag() string { return v.s.res.etag }

// Connected is closed when the PeerConnection first reaches the connected state.
func (v *Viewer) Connected() <-chan struct{} { return v.s.connected }

// Ended is closed when the PeerConnection fails or closes, including after Close or Kill.
func (v *Viewer) Ended() <-chan struct{} { return v.s.ended }

// State returns the PeerConnection's current state.
func (v *Viewer) State() webrtc.PeerConnectionState { return v.s.pc.ConnectionState() }

// Close sends DELETE to the Location (RFC 9725 §4.2), closes the PeerConnection and waits for
// every goroutine of the Viewer. It is idempotent; later calls return the first result. The
// DELETE error, if any, is returned but does not stop the teardown.
func (v *Viewer) Close() error { return v.s.teardown(true) }

// Kill ends the session without DELETE, as kill -9 or a network loss would. When the Viewer owns
// its API (ViewOptions.API nil), its sockets go silent first, so the server gets no DTLS
// close_notify either and must notice through ICE consent expiry (RFC 7675). With a caller's API
// pion's close still sends close_notify. Kill after Close, or Close after Kill, does nothing.
func (v *Viewer) Kill() { _ = v.s.teardown(false) }
