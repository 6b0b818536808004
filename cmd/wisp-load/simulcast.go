package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/wisp-media/wisp/client"
)

// Header extensions a rid simulcast publisher stamps on every video packet (RFC 8852, RFC 8843).
const (
	midURI = "urn:ietf:params:rtp-hdrext:sdes:mid"
	ridURI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
)

// layerSpec is one simulcast layer of -simulcast: its rid and its H.264 file.
type layerSpec struct{ rid, file string }

// parseLayers reads -simulcast's "rid=file,rid=file,…".
func parseLayers(s string) ([]layerSpec, error) {
	var out []layerSpec
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		rid, file, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || rid == "" || file == "" || !strings.HasSuffix(file, ".h264") {
			return nil, fmt.Errorf("-simulcast %q: want rid=file.h264,rid=file.h264,…", item)
		}
		if seen[rid] {
			return nil, fmt.Errorf("-simulcast: rid %q twice", rid)
		}
		seen[rid] = true
		out = append(out, layerSpec{rid: rid, file: file})
	}
	if len(out) < 2 {
		return nil, errors.New("-simulcast needs two layers or more")
	}
	return out, nil
}

// simulcastPublisher publishes one video transceiver with a layer per rid, named by rid only
// (no a=ssrc lines) and each packet marked with the mid and rid header extensions, as OBS and
// browsers send simulcast; plus, optionally, Opus audio and a data channel of timestamps. It
// ignores keyframe requests (as OBS and ffmpeg do) and loops its files until Close.
type simulcastPublisher struct {
	// set at construction
	pc       *webrtc.PeerConnection
	location string // the WHIP session URL, for DELETE
	token    string
	ctx      context.Context
	cancel   context.CancelFunc

	connected chan struct{}
	connOnce  sync.Once
	wg        sync.WaitGroup // the pacers and RTCP readers
	closeOnce sync.Once
}

// startSimulcast negotiates the simulcast publisher with whip and starts its pacers.
func startSimulcast(ctx context.Context, f *publishFlags) (*simulcastPublisher, error) {
	layers, err := parseLayers(f.simulcast)
	if err != nil {
		return nil, err
	}
	srcs := make([]*client.Source, len(layers))
	for i, l := range layers {
		if srcs[i], err = client.OpenH264(l.file, f.fps); err != nil {
			return nil, err
		}
	}
	var audio *client.Source
	if f.audio != "" {
		if audio, err = client.OpenOpus(f.audio); err != nil {
			return nil, err
		}
	}
	api, err := client.NewLoopbackAPI()
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	p := &simulcastPublisher{pc: pc, token: f.token, connected: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.connOnce.Do(func() { close(p.connected) })
		}
	})
	fail := func(err error) (*simulcastPublisher, error) {
		p.cancel()
		_ = pc.Close()
		return nil, err
	}
	tracks := make([]*webrtc.TrackLocalStaticRTP, len(layers))
	for i, l := range layers {
		if tracks[i], err = webrtc.NewTrackLocalStaticRTP(srcs[i].Codec(), "video", "wisp-load", webrtc.WithRTPStreamID(l.rid)); err != nil {
			return fail(fmt.Errorf("layer %s: %w", l.rid, err))
		}
	}
	tr, err := pc.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fail(fmt.Errorf("video transceiver: %w", err))
	}
	for _, t := range tracks[1:] {
		if err := tr.Sender().AddEncoding(t); err != nil {
			return fail(fmt.Errorf("add encoding: %w", err))
		}
	}
	var audioTrack *webrtc.TrackLocalStaticSample
	if audio != nil {
		if audioTrack, err = webrtc.NewTrackLocalStaticSample(audio.Codec(), "audio", "wisp-load"); err != nil {
			return fail(fmt.Errorf("audio track: %w", err))
		}
		if _, err := pc.AddTransceiverFromTrack(audioTrack, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			return fail(fmt.Errorf("audio transceiver: %w", err))
		}
	}
	var dc *webrtc.DataChannel
	if f.data != "" {
		if dc, err = pc.CreateDataChannel(f.data, nil); err != nil {
			return fail(fmt.Errorf("data channel: %w", err))
		}
	}
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	answer, err := p.negotiate(nctx, f.whip)
	if err != nil {
		return fail(err)
	}
	midID, err1 := extmapID(answer, midURI)
	ridID, err2 := extmapID(answer, ridURI)
	if err := errors.Join(err1, err2); err != nil {
		_ = p.Close()
		return nil, err
	}
	mid := tr.Mid()
	// Drain RTCP (every layer's and the audio's) so pion's interceptors run; PLIs are ignored.
	for _, l := range layers {
		p.wg.Go(func() {
			for {
				if _, _, err := tr.Sender().ReadSimulcastRTCP(l.rid); err != nil {
					return
				}
			}
		})
	}
	for _, s := range pc.GetSenders() {
		if s == tr.Sender() {
			continue
		}
		p.wg.Go(func() {
			for {
				if _, _, err := s.ReadRTCP(); err != nil {
					return
				}
			}
		})
	}
	for i, l := range layers {
		p.wg.Go(func() { p.paceLayer(tracks[i], srcs[i], l.rid, mid, midID, ridID) })
	}
	if audioTrack != nil {
		p.wg.Go(func() { p.paceAudio(audioTrack, audio) })
	}
	if dc != nil {
		p.wg.Go(func() { p.stamp(dc, f.dataEvery) })
	}
	return p, nil
}

// negotiate makes the offer without a=ssrc lines (the layers are named by rid only), POSTs it
// and applies the answer, which it returns.
func (p *simulcastPublisher) negotiate(ctx context.Context, whip string) (string, error) {
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("ice gathering: %w", ctx.Err())
	}
	var lines []string
	for _, line := range strings.Split(p.pc.LocalDescription().SDP, "\r\n") {
		if !strings.HasPrefix(line, "a=ssrc") {
			lines = append(lines, line)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, whip, strings.NewReader(strings.Join(lines, "\r\n")))
	if err != nil {
		return "", fmt.Errorf("post: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("post: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("post: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if loc, err := resp.Request.URL.Parse(resp.Header.Get("Location")); err == nil && resp.Header.Get("Location") != "" {
		p.location = loc.String()
	}
	answer := string(body)
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return "", fmt.Errorf("set answer: %w", err)
	}
	return answer, nil
}

// extmapID finds the id an SDP gives the header extension uri.
func extmapID(sdp, uri string) (uint8, error) {
	m := regexp.MustCompile(`(?m)^a=extmap:(\d+)(?:/\w+)? ` + regexp.QuoteMeta(uri) + `\s*$`).FindStringSubmatch(sdp)
	if m == nil {
		return 0, fmt.Errorf("the answer negotiates no %s", uri)
	}
	id, err := strconv.Atoi(m[1])
	if err != nil || id < 1 || id > 255 {
		return 0, fmt.Errorf("extmap %s: bad id %q", uri, m[1])
	}
	return uint8(id), nil
}

// Connected is closed once the PeerConnection is connected.
func (p *simulcastPublisher) Connected() <-chan struct{} { return p.connected }

// paceLayer packetizes one layer's frames in real time, looping, with the mid and rid header
// extensions on every packet, once the PeerConnection is connected.
func (p *simulcastPublisher) paceLayer(track *webrtc.TrackLocalStaticRTP, src *client.Source, rid, mid string, midID, ridID uint8) {
	if !p.waitConnected() {
		return
	}
	pk := rtp.NewPacketizer(1200, 0, 0, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000)
	p.loop(src, func(s client.Sample) {
		for _, pkt := range pk.Packetize(s.Data, uint32(s.Duration.Seconds()*90000)) {
			_ = pkt.Header.SetExtension(midID, []byte(mid))
			_ = pkt.Header.SetExtension(ridID, []byte(rid))
			_ = track.WriteRTP(pkt)
		}
	})
}

// paceAudio writes the Opus packets in real time, looping.
func (p *simulcastPublisher) paceAudio(track *webrtc.TrackLocalStaticSample, src *client.Source) {
	if !p.waitConnected() {
		return
	}
	p.loop(src, func(s client.Sample) { _ = track.WriteSample(media.Sample{Data: s.Data, Duration: s.Duration}) })
}

// loop calls write for every sample of src at its pace, over and over, until Close; a pacer
// that falls a second behind restarts its schedule rather than bursting.
func (p *simulcastPublisher) loop(src *client.Source, write func(client.Sample)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now()
	for {
		for _, s := range src.Samples() {
			select {
			case <-p.ctx.Done():
				return
			case <-timer.C:
			}
			write(s)
			next = next.Add(s.Duration)
			if time.Since(next) > time.Second {
				next = time.Now()
			}
			timer.Reset(time.Until(next))
		}
	}
}

// stamp sends the send time (unix nanoseconds) on dc every interval, as the single-layer
// publisher does.
func (p *simulcastPublisher) stamp(dc *webrtc.DataChannel, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			if dc.ReadyState() == webrtc.DataChannelStateOpen {
				_ = dc.SendText(strconv.FormatInt(time.Now().UnixNano(), 10))
			}
		}
	}
}

func (p *simulcastPublisher) waitConnected() bool {
	select {
	case <-p.connected:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// Close sends DELETE to the session, closes the PeerConnection and waits for the pacers.
func (p *simulcastPublisher) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.cancel()
		if p.location != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if req, rerr := http.NewRequestWithContext(ctx, http.MethodDelete, p.location, nil); rerr == nil {
				if p.token != "" {
					req.Header.Set("Authorization", "Bearer "+p.token)
				}
				if resp, derr := http.DefaultClient.Do(req); derr == nil {
					_ = resp.Body.Close()
				}
			}
			cancel()
		}
		err = p.pc.Close()
		p.wg.Wait()
	})
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// whipStreamName is the last path segment of a WHIP or WHEP URL: the stream's name.
func whipStreamName(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	path := strings.TrimSuffix(u.Path, "/")
	name, err := url.PathUnescape(path[strings.LastIndexByte(path, '/')+1:])
	if err != nil {
		return ""
	}
	return name
}
