package client

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// peer is one server-side PeerConnection. Its goroutines are owned and waited for by close.
type peer struct {
	id        string
	pc        *webrtc.PeerConnection
	video     chan []byte  // WHIP: reassembled video frames
	audio     chan []byte  // WHIP: audio payloads
	messages  chan Message // data channel messages received
	ice       chan webrtc.ICEConnectionState
	connected chan struct{}
	dcOpen    chan struct{}
	dcClosed  chan struct{}
	readDone  chan struct{} // closed when every WHIP track reader has returned
	done      chan struct{} // closed when close starts: pc.Close does not stop play on its own
	dc        atomic.Pointer[webrtc.DataChannel]
	videoSSRC atomic.Uint32
	plis      atomic.Int64 // WHEP: PLIs received from the viewer
	overflow  atomic.Int64 // items dropped because a test channel was full

	mu      sync.Mutex
	closing bool
	readers sync.WaitGroup // track readers
	wg      sync.WaitGroup // every goroutine
	once    sync.Once
}

func newPeer(api *webrtc.API, id string) (*peer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &peer{
		id: id, pc: pc,
		video: make(chan []byte, 4096), audio: make(chan []byte, 4096), messages: make(chan Message, 4096),
		ice: make(chan webrtc.ICEConnectionState, 16), connected: make(chan struct{}),
		dcOpen: make(chan struct{}), dcClosed: make(chan struct{}), readDone: make(chan struct{}), done: make(chan struct{}),
	}
	var connectedOnce, openOnce, closedOnce sync.Once
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		select {
		case p.ice <- s:
		default:
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			connectedOnce.Do(func() { close(p.connected) })
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		p.dc.Store(dc)
		dc.OnOpen(func() { openOnce.Do(func() { close(p.dcOpen) }) })
		dc.OnClose(func() { closedOnce.Do(func() { close(p.dcClosed) }) })
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			p.push(p.messages, Message{Label: dc.Label(), Data: m.Data, Text: m.IsString})
		})
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			p.videoSSRC.Store(uint32(tr.SSRC()))
		}
		p.spawn(true, func() { p.record(tr) })
	})
	return p, nil
}

func push[T any](p *peer, ch chan T, v T) {
	select {
	case ch <- v:
	default:
		p.overflow.Add(1)
	}
}

func (p *peer) push(ch chan Message, m Message) { push(p, ch, m) }

func (p *peer) spawn(reader bool, f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return
	}
	p.wg.Add(1)
	if reader {
		p.readers.Add(1)
	}
	go func() {
		defer p.wg.Done()
		if reader {
			defer p.readers.Done()
		}
		f()
	}()
}

func (p *peer) answer(offer string) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return err
	}
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return err
	}
	<-gathered
	return nil
}

// record reads one WHIP track to its end; the last video frame is flushed out then.
func (p *peer) record(tr *webrtc.TrackRemote) {
	var sb *samplebuilder.SampleBuilder
	switch strings.ToLower(tr.Codec().MimeType) {
	case strings.ToLower(webrtc.MimeTypeH264):
		sb = samplebuilder.New(256, &codecs.H264Packet{}, 90000)
	case strings.ToLower(webrtc.MimeTypeVP8):
		sb = samplebuilder.New(256, &codecs.VP8Packet{}, 90000)
	}
	pop := func() {
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			push(p, p.video, s.Data)
		}
	}
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			break
		}
		if sb == nil {
			push(p, p.audio, pkt.Payload)
			continue
		}
		sb.Push(pkt)
		pop()
	}
	if sb != nil {
		sb.Flush()
		pop()
	}
}

// addSenders adds one looping TrackLocalStaticSample per source, WHEP style (same stream id),
// with RTCP drained and PLIs counted.
func (p *peer) addSenders(sources ...*Source) error {
	for _, src := range sources {
		if src == nil {
			continue
		}
		track, err := webrtc.NewTrackLocalStaticSample(src.Codec(), src.Kind().String(), "loopback")
		if err != nil {
			return err
		}
		sender, err := p.pc.AddTrack(track)
		if err != nil {
			return err
		}
		p.spawn(false, func() {
			for {
				pkts, _, err := sender.ReadRTCP()
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					if _, ok := pkt.(*rtcp.PictureLossIndication); ok {
						p.plis.Add(1)
					}
				}
			}
		})
		p.spawn(false, func() { p.play(src, track) })
	}
	return nil
}

// play sends src from its first sample once connected, looping, one sample per tick.
func (p *peer) play(src *Source, track *webrtc.TrackLocalStaticSample) {
	done := p.done
	select {
	case <-p.connected:
	case <-done:
		return
	}
	samples := src.Samples()
	tick := time.NewTicker(samples[0].Duration)
	defer tick.Stop()
	for i := 0; ; i = (i + 1) % len(samples) {
		_ = track.WriteSample(media.Sample{Data: samples[i].Data, Duration: samples[i].Duration})
		select {
		case <-tick.C:
		case <-done:
			return
		}
	}
}

// sendPLI asks the WHIP publisher for a keyframe.
func (p *peer) sendPLI() error {
	return p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: p.videoSSRC.Load()}})
}

func (p *peer) close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closing = true
		close(p.done)
		p.mu.Unlock()
		_ = p.pc.Close()
		p.readers.Wait()
		close(p.readDone)
		p.wg.Wait()
	})
}
