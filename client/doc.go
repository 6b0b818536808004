// Package client is a WHIP (RFC 9725) and WHEP (draft-ietf-wish-whep) client built on pion. It
// speaks plain HTTP to any server; wisp's end-to-end tests and the wisp-load tool use it.
//
// A Publisher sends media files in real time; a Viewer receives, counts and reassembles what
// the server forwards:
//
//	video, _ := client.OpenH264("testdata/media/h264.h264", 30)
//	pub, err := client.Publish(ctx, "http://127.0.0.1:8080/whip/live", client.PublishOptions{Video: video, Loop: true})
//	...
//	view, err := client.View(ctx, "http://127.0.0.1:8080/whep/live", client.ViewOptions{Video: true})
//	f := <-view.Frames() // f.Data equals one of video.Samples()[i].Data, byte for byte
//	_ = view.Close()     // DELETE, then close; Kill() closes without DELETE
//
// Map of the package:
//
//	source.go      Source and Sample: a media file in memory
//	h264.go        OpenH264: Annex-B split into access units
//	vp8.go         OpenIVF, OpenVP8: IVF frames (VP8, VP9, AV1)
//	h265.go        OpenH265: Annex-B split into access units
//	opus.go        OpenOpus: Ogg pages into Opus packets
//	publisher.go   Publisher, PublishOptions, Publish
//	pace.go        real-time pacing and RTCP draining of a Publisher
//	viewer.go      Viewer, ViewOptions, View
//	receive.go     a Viewer's per-track read loop
//	assembler.go   Frame: marker-bit reassembly of H.264 and VP8 frames
//	stats.go       PacketRecord, TrackStats, ViewerStats, PublisherStats
//	datachannel.go Message; sending and receiving on data channels
//	session.go     what both share: negotiation, state signals, owned goroutines, one teardown
//	http.go        the WHIP/WHEP HTTP exchange: POST offer, DELETE session
//	api.go         NewAPI, NewLoopbackAPI: the pion API recipe (used when none is given)
//	cutnet.go      sockets that Kill can silence, to imitate kill -9
//	errors.go      sentinel errors and StatusError
//
// Every goroutine belongs to its Publisher or Viewer and has returned when Close or Kill
// returns. Pion callbacks only signal.
package client
