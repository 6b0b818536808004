#!/bin/sh
# Regenerates the test clips in this directory. Not run by tests: the outputs are committed.
# Needs ffmpeg built with libx264, libvpx and libopus (made with Debian ffmpeg 5.1).
# Every clip is 4 s long; the video clips are 320x240 at 30 fps with a keyframe every 30 frames.
set -eu
cd "$(dirname "$0")"

common="-hide_banner -loglevel error -y"
out="-map_metadata -1 -fflags +bitexact"

# H.264 Annex-B, Constrained Baseline level 3.1 (SPS 42 c0 1f; fits SDP profile-level-id=42e01f), no B-frames,
# IDR every 30 frames and never elsewhere, SPS/PPS repeated before every IDR, one slice per frame.
ffmpeg $common -f lavfi -i testsrc2=size=320x240:rate=30 -t 4 \
	-c:v libx264 -profile:v baseline -level:v 3.1 -pix_fmt yuv420p -threads 1 \
	-g 30 -keyint_min 30 -sc_threshold 0 -bf 0 -crf 28 -flags:v +bitexact \
	-x264-params repeat-headers=1:scenecut=0:slices=1:aud=0 \
	$out -f h264 h264.h264

# VP8 in IVF, keyframe every 30 frames, no alt-ref (hidden) frames so one IVF frame = one picture.
ffmpeg $common -f lavfi -i testsrc2=size=320x240:rate=30 -t 4 \
	-c:v libvpx -pix_fmt yuv420p -threads 1 -deadline good -cpu-used 4 \
	-g 30 -keyint_min 30 -auto-alt-ref 0 -lag-in-frames 0 -b:v 400k -flags:v +bitexact \
	$out -f ivf vp8.ivf

# Opus in Ogg, 48 kHz stereo, 20 ms packets, 440 Hz sine.
ffmpeg $common -f lavfi -i sine=frequency=440:sample_rate=48000 -t 4 \
	-c:a libopus -ac 2 -ar 48000 -b:a 64k -frame_duration 20 -application audio -flags:a +bitexact \
	$out -f ogg opus.ogg

# H.264 720p30 at about 2.7 Mbit/s with a 2 s GOP (IDR at frames 0 and 60 only): the load and
# fast-start clip (cmd/wisp-load, docs/benchmarks.md). Noise keeps the encoder at its bitrate.
ffmpeg $common -f lavfi -i testsrc2=size=1280x720:rate=30 -t 4 -vf noise=alls=12:allf=t+u \
	-c:v libx264 -profile:v baseline -level:v 3.1 -pix_fmt yuv420p -threads 1 -preset veryfast \
	-g 60 -keyint_min 60 -sc_threshold 0 -bf 0 -b:v 2700k -maxrate 2700k -bufsize 2700k -flags:v +bitexact \
	-x264-params repeat-headers=1:scenecut=0:slices=1:aud=0 \
	$out -f h264 h264-720p.h264

# VP9, AV1 and H.265 (stream/keyframe_*_test.go; cmd/wisp-load and interop fast-start-codecs).
# Needs libvpx-vp9, libaom-av1 and libx265 as well (Debian ffmpeg 5.1 has them). Short clips,
# 320x240 30 fps with a keyframe every 30 frames; no hidden frames or B-frames, one picture per
# IVF frame or access unit.
ffmpeg $common -f lavfi -i testsrc2=size=320x240:rate=30 -t 2 \
	-c:v libvpx-vp9 -pix_fmt yuv420p -threads 1 -deadline realtime -cpu-used 8 -row-mt 0 \
	-g 30 -keyint_min 30 -auto-alt-ref 0 -lag-in-frames 0 -b:v 300k -flags:v +bitexact \
	$out -f ivf vp9.ivf
ffmpeg $common -f lavfi -i testsrc2=size=320x240:rate=30 -t 2 \
	-c:v libaom-av1 -pix_fmt yuv420p -threads 1 -usage realtime -cpu-used 8 -row-mt 0 \
	-g 30 -keyint_min 30 -lag-in-frames 0 -b:v 300k -flags:v +bitexact \
	$out -f ivf av1.ivf
ffmpeg $common -f lavfi -i testsrc2=size=320x240:rate=30 -t 2 \
	-c:v libx265 -pix_fmt yuv420p -preset ultrafast -b:v 300k -flags:v +bitexact \
	-x265-params log-level=error:pools=none:frame-threads=1:keyint=30:min-keyint=30:scenecut=0:bframes=0:open-gop=0:repeat-headers=1:info=0 \
	$out -f hevc h265.h265

# The same codecs with keyframes 10 s apart (one keyframe, at frame 0, of a 10 s clip that the
# load tool loops), 30 fps: the per-codec fast-start clips (interop/cases/fast-start-codecs.mjs).
ffmpeg $common -f lavfi -i testsrc2=size=320x240:rate=30 -t 10 \
	-c:v libvpx-vp9 -pix_fmt yuv420p -threads 1 -deadline realtime -cpu-used 8 -row-mt 0 \
	-g 300 -keyint_min 300 -auto-alt-ref 0 -lag-in-frames 0 -b:v 150k -flags:v +bitexact \
	$out -f ivf vp9-gop10s.ivf
ffmpeg $common -f lavfi -i testsrc2=size=320x240:rate=30 -t 10 \
	-c:v libaom-av1 -pix_fmt yuv420p -threads 1 -usage realtime -cpu-used 8 -row-mt 0 \
	-g 300 -keyint_min 300 -lag-in-frames 0 -b:v 150k -flags:v +bitexact \
	$out -f ivf av1-gop10s.ivf
ffmpeg $common -f lavfi -i testsrc2=size=320x240:rate=30 -t 10 \
	-c:v libx265 -pix_fmt yuv420p -preset ultrafast -b:v 150k -flags:v +bitexact \
	-x265-params log-level=error:pools=none:frame-threads=1:keyint=300:min-keyint=300:scenecut=0:bframes=0:open-gop=0:repeat-headers=1:info=0 \
	$out -f hevc h265-gop10s.h265

# Opus in Ogg, 48 kHz stereo with different tones left (440 Hz) and right (1000 Hz), 4 s, 20 ms
# packets: the stereo clip (interop/cases/stereo-*.mjs, cmd/wisp TestStereoOpus).
ffmpeg $common -f lavfi -i sine=frequency=440:sample_rate=48000 -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 4 \
	-filter_complex "[0:a][1:a]join=inputs=2:channel_layout=stereo[a]" -map "[a]" \
	-c:a libopus -ac 2 -ar 48000 -b:a 96k -frame_duration 20 -application audio -flags:a +bitexact \
	$out -f ogg opus-stereo.ogg

# H.264 640x360 at about 0.8 Mbit/s, IDR every 30 frames (1 s): the middle simulcast layer of
# cmd/wisp TestAutoLayers (between h264.h264 and h264-720p.h264). Noise keeps the encoder at its bitrate.
ffmpeg $common -f lavfi -i testsrc2=size=640x360:rate=30 -t 4 -vf noise=alls=12:allf=t+u \
	-c:v libx264 -profile:v baseline -level:v 3.1 -pix_fmt yuv420p -threads 1 -preset veryfast \
	-g 30 -keyint_min 30 -sc_threshold 0 -bf 0 -b:v 800k -maxrate 800k -bufsize 800k -flags:v +bitexact \
	-x264-params repeat-headers=1:scenecut=0:slices=1:aud=0 \
	$out -f h264 h264-360p.h264

# H.264 320x180 at about 0.2 Mbit/s, IDR every 60 frames (2 s): the low layer of the load tool's
# rid simulcast publisher (cmd/wisp-load -simulcast, docs/bench/estimator.sh), with h264-360p.h264
# and h264-720p.h264 above it. Noise keeps the encoder at its bitrate.
ffmpeg $common -f lavfi -i testsrc2=size=320x180:rate=30 -t 4 -vf noise=alls=12:allf=t+u \
	-c:v libx264 -profile:v baseline -level:v 3.1 -pix_fmt yuv420p -threads 1 -preset veryfast \
	-g 60 -keyint_min 60 -sc_threshold 0 -bf 0 -b:v 200k -maxrate 200k -bufsize 200k -flags:v +bitexact \
	-x264-params repeat-headers=1:scenecut=0:slices=1:aud=0 \
	$out -f h264 h264-180p.h264
