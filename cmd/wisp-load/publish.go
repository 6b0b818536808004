package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wisp-media/wisp/client"
)

// publishFlags are the flags of a publisher, shared by publish and view.
type publishFlags struct {
	whip, video, audio, data, token string
	simulcast                       string // rid=file.h264,…: publish these layers instead of -video
	fps                             int
	dataEvery                       time.Duration
}

// liveSource is a running publisher: client.Publisher or simulcastPublisher.
type liveSource interface {
	Connected() <-chan struct{}
	Close() error
}

func (f *publishFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.whip, "whip", "", "WHIP endpoint URL")
	fs.StringVar(&f.video, "video", "", "video file: .h264 or .h265 (Annex-B), or .ivf (VP8, VP9, AV1)")
	fs.IntVar(&f.fps, "fps", 30, "frame rate of an .h264 or .h265 file")
	fs.StringVar(&f.audio, "audio", "", "audio file: .ogg (Opus)")
	fs.StringVar(&f.data, "data", "", "data channel label; the publisher sends a timestamp on it every -data-every")
	fs.DurationVar(&f.dataEvery, "data-every", 100*time.Millisecond, "interval of data-channel messages")
	fs.StringVar(&f.token, "publish-token", "", "bearer token for WHIP")
	fs.StringVar(&f.simulcast, "simulcast", "", "publish rid simulcast instead of -video: rid=file.h264,rid=file.h264,… (one video transceiver, a layer per rid named by rid only, mid and rid header extensions, as OBS and browsers send it)")
}

// startAny starts the simulcast publisher with -simulcast, else the single-track one.
func (f *publishFlags) startAny(ctx context.Context) (liveSource, error) {
	if f.simulcast != "" {
		if f.video != "" {
			return nil, fmt.Errorf("-simulcast and -video exclude each other")
		}
		return startSimulcast(ctx, f)
	}
	return f.start(ctx)
}

// start publishes the files in a loop, ignoring keyframe requests as OBS and ffmpeg do.
func (f *publishFlags) start(ctx context.Context) (*client.Publisher, error) {
	opt := client.PublishOptions{Loop: true, DataChannel: f.data, Token: f.token}
	var err error
	switch {
	case strings.HasSuffix(f.video, ".h264"):
		opt.Video, err = client.OpenH264(f.video, f.fps)
	case strings.HasSuffix(f.video, ".h265"):
		opt.Video, err = client.OpenH265(f.video, f.fps)
	case strings.HasSuffix(f.video, ".ivf"):
		opt.Video, err = client.OpenIVF(f.video)
	case f.video != "":
		err = fmt.Errorf("video %s: want .h264, .h265 or .ivf", f.video)
	}
	if err != nil {
		return nil, err
	}
	if f.audio != "" {
		if opt.Audio, err = client.OpenOpus(f.audio); err != nil {
			return nil, err
		}
	}
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := client.Publish(nctx, f.whip, opt)
	if err != nil {
		return nil, err
	}
	if f.data != "" {
		go stamp(ctx, p, f.dataEvery)
	}
	return p, nil
}

// stamp sends the send time (unix nanoseconds, decimal) on the data channel until ctx ends.
func stamp(ctx context.Context, p *client.Publisher, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.Ended():
			return
		case <-t.C:
			_ = p.SendText(strconv.FormatInt(time.Now().UnixNano(), 10)) // not open yet: skipped
		}
	}
}

// publishReport is what publish prints.
type publishReport struct {
	Seconds float64               `json:"seconds"`
	Stats   client.PublisherStats `json:"stats,omitzero"`
}

func runPublish(ctx context.Context, args []string) (any, error) {
	fs := flag.NewFlagSet("publish", flag.ExitOnError)
	var f publishFlags
	f.register(fs)
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	_ = fs.Parse(args)
	if f.whip == "" || (f.video == "" && f.audio == "" && f.simulcast == "") {
		return nil, fmt.Errorf("publish needs -whip and -video, -simulcast or -audio")
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	start := time.Now()
	if f.simulcast != "" {
		p, err := f.startAny(ctx)
		if err != nil {
			return nil, err
		}
		<-ctx.Done()
		return publishReport{Seconds: time.Since(start).Seconds()}, p.Close()
	}
	p, err := f.start(ctx)
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
	case <-p.Ended():
	}
	st := p.Stats()
	_ = p.Close()
	return publishReport{Seconds: time.Since(start).Seconds(), Stats: st}, nil
}
