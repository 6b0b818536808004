// Package whep is wisp's egress side (WHEP).
//
//   - handler.go: Handler, the echo routes: POST /whep/{stream} creates a Viewer, PATCH on its
//     session URL trickles candidates or restarts ICE (wish.ServePatch), DELETE ends it.
//   - cluster.go: on a cluster node, Cluster: pulls by other nodes are authenticated by their
//     token (and get every data-channel label on PullLabel), viewers of remote streams are told
//     to the node's pulls (pull/), a POST redirected here with a placement grant is admitted.
//   - pull.go: the owner's side of a pull: one video section per simulcast layer (a=msid
//     layer-<rid>, each Output following its layer only), a keeper that re-follows a replaced
//     layer and ends the pull when the stream's layers no longer match its answer.
//   - viewer.go: Viewer, one WHEP PeerConnection bound to a stream.Stream's Tracks: it drains RTCP
//     on every sender (PLI/FIR become the Stream's coalesced keyframe requests for the layer that
//     sender's Output sends) and subscribes its
//     data channels to the Stream's relay; once connected it starts its Tracks' Outputs. Its lifetime
//     is an embedded rtc.Peer's.
//   - drain.go: what a player sends on its data channel is read and discarded (any size up to
//     SCTP's), so its relay subscription lives as long as the channel.
//   - ice.go: the Viewer is a wish.ICESession through its embedded wish.ICEState.
//   - events.go: the server-sent events extension (active, inactive, layers, viewercount) on
//     capability URLs under the session URL, destroyed with the session.
//   - layer.go, layerevent.go: the layer extension (WHEPX-06): POST/DELETE on {session}/layer
//     parsed into a layers.Choice for a LayerSelector, and the "layers" event listing every layer.
//   - viewerlayer.go: the Viewer is a LayerSelector: its layers are the video Track's Feeds, and
//     a keeper goroutine (started by the first choice) makes its Output follow the pinned or capped
//     layer, or the stream-wide choice again (layers.Manual).
//   - viewerauto.go: with Config.SimulcastAPI, a simulcast viewer's automatic layer: its first
//     layer chosen before its video starts, then a loop (layers.Chooser every 250 ms) on its
//     transport-cc evidence (rtc.Estimate), REMB, receiver-report loss and NACK rate, with RTX
//     padding ramping up while a probe runs and its NACK answers bounded by its budget.
//   - config.go: Config, everything the package is given by main.
//
// A viewer may arrive before the publisher: it is accepted, and media starts when the publisher
// does (WHEP-04's alternative to 409). Its answer then lists every codec both sides support.
package whep
