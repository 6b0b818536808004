// Command wisp-load drives a WHIP/WHEP server (wisp or any other) with real media and reports
// how it holds up: join times, bitrate, loss, data-channel delay and, given the server's pid, its
// CPU seconds per GB delivered and memory per viewer. Results are JSON on stdout.
//
//	wisp-load publish -whip URL -video clip.h264 [-audio clip.ogg] [-data data] [-duration D]
//	wisp-load view -whep URL -n N -ramp R -duration D [-count] [-twcc] [-pli] [-pid PID] [-api URL] [-video clip.h264 -whip URL]
//	wisp-load joins -whep URL -tries N [-cold-api URL] [-anchor]
//
// view with -video (or -simulcast rid=file,…) also publishes (from the same process) before the
// viewers join. joins measures one viewer at a time, from its WHEP POST to its first keyframe.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var (
		out any
		err error
	)
	switch os.Args[1] {
	case "publish":
		out, err = runPublish(ctx, os.Args[2:])
	case "view":
		out, err = runView(ctx, os.Args[2:])
	case "joins":
		out, err = runJoins(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wisp-load:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "wisp-load:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  wisp-load publish -whip URL (-video FILE | -simulcast rid=FILE,...) [-fps 30] [-audio FILE.ogg] [-data LABEL] [-duration D]
  wisp-load view -whep URL -n N [-ramp R/s] [-duration D] [-count] [-twcc] [-pid PID] [-data LABEL] [-pli]
                 [-api URL/api/streams] [-whip URL -video FILE | -simulcast rid=FILE,... ...]   (publish too, from this process)
  wisp-load joins -whep URL -tries N [-cold-api OWNER/api/streams] [-anchor] [-data LABEL]
Run "wisp-load publish -h", "wisp-load view -h" or "wisp-load joins -h" for every flag.`)
	os.Exit(2)
}
