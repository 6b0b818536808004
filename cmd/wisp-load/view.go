package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// viewFlags configures view.
type viewFlags struct {
	whep, token, data string
	n                 int
	ramp              float64
	duration, settle  time.Duration
	count, audio      bool
	perViewer, pli    bool
	twcc              bool
	pid               int
	api               string // a wisp server's /api/streams: wait for the layers, report the outputs' layers
	untilKey          bool   // run returns at the first keyframe (joins)
	pin               string // a rid each viewer pins through the WHEP layer extension
}

// viewer is one WHEP session of the load and what it measured. Times are zero when the step
// never happened.
type viewer struct {
	net *countNet
	v   *client.Viewer

	// owned by run until done is closed
	start, answered, connected, firstKey time.Time
	post                                 postClock // when the WHEP POST left
	twcc                                 bool      // the answer accepted transport-cc
	err                                  error
	delays                               []time.Duration // data-channel delays
	done                                 chan struct{}
}

func runView(ctx context.Context, args []string) (any, error) {
	fs := flag.NewFlagSet("view", flag.ExitOnError)
	var f viewFlags
	var pf publishFlags
	pf.register(fs)
	fs.StringVar(&f.whep, "whep", "", "WHEP endpoint URL")
	fs.StringVar(&f.token, "token", "", "bearer token for WHEP")
	fs.IntVar(&f.n, "n", 1, "number of viewers (0 with -pid: measure the server alone over the window)")
	fs.Float64Var(&f.ramp, "ramp", 20, "viewers started per second")
	fs.DurationVar(&f.duration, "duration", 20*time.Second, "measurement window, after every viewer has joined")
	fs.DurationVar(&f.settle, "settle", 2*time.Second, "wait between the last join and the window")
	fs.BoolVar(&f.count, "count", false, "count SRTP packets at the socket after the first keyframe, without decrypting (cheap: hundreds of viewers per core)")
	fs.BoolVar(&f.audio, "audio-track", true, "viewers ask for audio too")
	fs.BoolVar(&f.perViewer, "per-viewer", false, "report each viewer too")
	fs.BoolVar(&f.pli, "pli", false, "each viewer sends one PLI when its video starts (a keyframe request the server passes to the publisher)")
	fs.BoolVar(&f.twcc, "twcc", false, "viewers offer transport-cc and send its feedback every 100 ms for what arrives (with -count, built from the clear RTP headers at the socket into pion's twcc.Recorder), so a server's send-side estimator runs as with browsers")
	fs.IntVar(&f.pid, "pid", 0, "server pid: report its CPU seconds per GB delivered and RSS per viewer from /proc")
	fs.StringVar(&f.pin, "pin", "", "each viewer pins this simulcast layer (rid) through the WHEP layer extension (POST {session}/layer) right after its 201")
	fs.StringVar(&f.api, "api", "", "the server's /api/streams URL (wisp): with -simulcast wait until it lists every layer before the viewers come; report which layer the viewers' video outputs follow at the end of the window")
	_ = fs.Parse(args)
	if f.whep == "" || f.n < 0 || (f.n == 0 && f.pid == 0) || f.ramp <= 0 {
		return nil, fmt.Errorf("view needs -whep, -n ≥ 1 (or 0 with -pid) and -ramp > 0")
	}
	f.data = pf.data
	if pf.video != "" || pf.audio != "" || pf.simulcast != "" {
		if pf.whip == "" {
			return nil, fmt.Errorf("publishing from view needs -whip")
		}
		p, err := pf.startAny(ctx)
		if err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		defer p.Close()
		select { // let the publisher connect and a GOP reach the server
		case <-p.Connected():
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("publisher did not connect in 10 s")
		}
		time.Sleep(3 * time.Second)
		if layers, _ := parseLayers(pf.simulcast); len(layers) > 0 && f.api != "" {
			// A viewer's estimation is chosen when it arrives: every layer must be known by then.
			name := whipStreamName(f.whep)
			if err := waitFor(ctx, f.api, name, 10*time.Second, "every layer", func(s apiStream, ok bool) bool {
				return ok && s.videoFeeds() == len(layers)
			}); err != nil {
				return nil, err
			}
		}
	}
	return load(ctx, f)
}

func load(ctx context.Context, f viewFlags) (*report, error) {
	r := &report{Viewers: f.n, Count: f.count, TWCC: f.twcc, RampPerSecond: f.ramp, perViewer: f.perViewer}
	var base sample
	if f.pid > 0 {
		var err error
		if base, err = sampleServer(f.pid); err != nil {
			return nil, err
		}
		r.Server = &serverReport{PID: f.pid, RSSBaseMB: mb(base.rss)}
	}
	vctx, cancel := context.WithCancel(ctx)
	defer cancel()
	viewers := make([]*viewer, f.n)
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range viewers {
		at := begin.Add(time.Duration(float64(i) / f.ramp * float64(time.Second)))
		select {
		case <-time.After(time.Until(at)):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		w := &viewer{done: make(chan struct{})}
		viewers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(vctx, f)
		}()
	}
	// Wait until every viewer has its first keyframe or gave up, then settle and measure.
	joined := time.After(30 * time.Second)
	for _, w := range viewers {
		select {
		case <-w.joined():
		case <-joined:
		case <-ctx.Done():
		}
	}
	time.Sleep(f.settle)
	before := snapshot(viewers)
	start := time.Now()
	for _, w := range viewers {
		if w != nil && w.net != nil {
			w.net.c.resetGap(start)
		}
	}
	var s0, s1 sample
	if f.pid > 0 {
		s0, _ = sampleServer(f.pid)
	}
	t0 := time.Now()
	select {
	case <-time.After(f.duration):
	case <-ctx.Done():
	}
	window := time.Since(t0)
	after := snapshot(viewers)
	if f.pid > 0 {
		s1, _ = sampleServer(f.pid)
	}
	if f.api != "" {
		if s, ok, err := fetchStream(ctx, f.api, whipStreamName(f.whep)); err == nil && ok {
			r.Layers = layersOf(s)
		}
	}
	cancel()
	wg.Wait()
	r.fill(viewers, before, after, window)
	if r.Server != nil {
		r.Server.fill(s0, s1, base, after.bytes-before.bytes, after.packets-before.packets, r.Connected, window.Seconds())
	}
	for _, w := range viewers {
		w.close()
	}
	return r, nil
}

// joined is closed once the viewer has its first keyframe or has failed.
func (w *viewer) joined() <-chan struct{} { return w.done }

func (w *viewer) run(ctx context.Context, f viewFlags) {
	joinedOnce := sync.OnceFunc(func() { close(w.done) })
	defer joinedOnce()
	w.start = time.Now()
	n, err := newCountNet()
	if err != nil {
		w.err = err
		return
	}
	w.net = n
	if f.twcc && f.count {
		n.twcc = newTWCCFeedback()
	}
	api, err := loadAPI(n, f.count, f.twcc)
	if err != nil {
		w.err = err
		return
	}
	nctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	w.v, err = client.View(nctx, f.whep, client.ViewOptions{Video: true, Audio: f.audio, DataChannel: f.data, Token: f.token, API: api,
		PLIOnStart: f.pli, HTTPClient: &http.Client{Transport: &w.post}})
	if err != nil {
		w.err = err
		return
	}
	w.answered = time.Now()
	if f.pin != "" {
		if err := pinLayer(nctx, w.v.Location(), f.pin); err != nil {
			w.err = err
			return
		}
	}
	if id := twccID(w.v.Answer()); id != 0 {
		w.twcc = true
		if n.twcc != nil {
			n.twcc.id.Store(uint32(id))
			fctx, stop := context.WithCancel(ctx)
			var fb sync.WaitGroup
			defer fb.Wait()
			defer stop() // runs first: the feedback loop ends with the viewer, then is waited for
			fb.Go(func() { n.twcc.run(fctx, w.v.WriteRTCP) })
		}
	}
	select {
	case <-w.v.Connected():
		w.connected = time.Now()
	case <-nctx.Done():
		w.err = fmt.Errorf("not connected: %w", nctx.Err())
		return
	}
	for w.firstKey.IsZero() {
		select {
		case fr := <-w.v.Frames():
			if fr.Keyframe {
				w.firstKey = fr.At
				n.swallow.Store(f.count)
			}
		case <-w.v.AudioPackets():
		case m := <-w.v.Messages():
			w.message(m)
		case <-nctx.Done():
			w.err = fmt.Errorf("no keyframe: %w", nctx.Err())
			return
		}
	}
	joinedOnce()
	if f.untilKey {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.v.Frames():
		case <-w.v.AudioPackets():
		case m := <-w.v.Messages():
			w.message(m)
		}
	}
}

func (w *viewer) message(m client.Message) {
	ns, err := strconv.ParseInt(string(m.Data), 10, 64)
	if err != nil {
		return
	}
	w.delays = append(w.delays, m.At.Sub(time.Unix(0, ns)))
}

func (w *viewer) close() {
	if w.v != nil {
		_ = w.v.Close()
	}
}

// loadAPI is a loopback-friendly pion API on the counting socket layer. A counting viewer
// (count) runs no NACK generator: once packets are swallowed at the socket, pion would NACK every
// packet it no longer sees, and the server would retransmit them forever. Its loss is the raw loss.
// With twcc a counting viewer offers transport-cc too; its feedback comes from the socket
// (twcc.go), not from pion's interceptor, which would see no packet once they are swallowed. A
// decrypting viewer's default interceptors already offer transport-cc and send its feedback.
func loadAPI(n *countNet, count, twcc bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	var err error
	if count {
		err = webrtc.ConfigureRTCPReports(ir)
	} else {
		err = webrtc.RegisterDefaultInterceptors(m, ir)
	}
	if err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}
	if count && twcc {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeVideo)
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
				return nil, fmt.Errorf("transport-cc extension: %w", err)
			}
		}
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNet(n)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// postClock is a viewer's HTTP transport that notes when its first POST (the WHEP offer) left:
// join times from there leave out the client's own ICE gathering.
type postClock struct{ at atomic.Int64 }

// RoundTrip implements http.RoundTripper.
func (c *postClock) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		c.at.CompareAndSwap(0, time.Now().UnixNano())
	}
	return http.DefaultTransport.RoundTrip(r)
}

// time is when the first POST left; zero if none did.
func (c *postClock) time() time.Time {
	if ns := c.at.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// pinLayer asks the server to send the viewer's video (m-line 0: View adds it first) from layer
// rid, through the WHEP layer extension (WHEPX-06).
func pinLayer(ctx context.Context, session, rid string) error {
	body := `{"mediaId":"0","rid":` + strconv.Quote(rid) + `}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, session+"/layer", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("pin %s: %s", rid, resp.Status)
	}
	return nil
}
