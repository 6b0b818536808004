package client

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// inboxSize is how many received messages, frames or audio packets wait for a slow reader before
// new ones are dropped (and counted).
const inboxSize = 1024

// Message is one data channel message a Viewer received.
type Message struct {
	Label string    // the data channel's label
	Data  []byte    // the payload; owned by the receiver
	Text  bool      // sent as a string (SendText) rather than binary
	At    time.Time // arrival time
}

// outbox is the sending end of a data channel created before the offer (WHEP-08: an answer
// cannot add m=application, so the offerer must create the channel).
type outbox struct {
	dc   *webrtc.DataChannel
	open chan struct{} // closed by OnOpen
}

func newOutbox(pc *webrtc.PeerConnection, label string) (*outbox, error) {
	dc, err := pc.CreateDataChannel(label, nil)
	if err != nil {
		return nil, fmt.Errorf("create data channel %q: %w", label, err)
	}
	o := &outbox{dc: dc, open: make(chan struct{})}
	var once sync.Once
	dc.OnOpen(func() { once.Do(func() { close(o.open) }) })
	return o, nil
}

// send writes one message if the channel is open; it never waits.
func (o *outbox) send(data []byte, text bool) error {
	if o == nil {
		return ErrNoDataChannel
	}
	if o.dc.ReadyState() != webrtc.DataChannelStateOpen {
		return fmt.Errorf("send on %q (%s): %w", o.dc.Label(), o.dc.ReadyState(), ErrNotOpen)
	}
	var err error
	if text {
		err = o.dc.SendText(string(data))
	} else {
		err = o.dc.Send(data)
	}
	if err != nil {
		return fmt.Errorf("send on %q: %w", o.dc.Label(), err)
	}
	return nil
}

// inbox collects messages from every data channel of a PeerConnection. Its OnMessage handlers
// run on pion's read loops, so they only make a non-blocking send.
type inbox struct {
	ch      chan Message
	hook    func(Message) // replaces ch when set
	dropped atomic.Int64
	count   atomic.Int64
}

func newInbox(hook func(Message)) *inbox {
	return &inbox{ch: make(chan Message, inboxSize), hook: hook}
}

func (in *inbox) attach(dc *webrtc.DataChannel) {
	label := dc.Label()
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		in.count.Add(1)
		if in.hook != nil {
			in.hook(Message{Label: label, Data: m.Data, Text: m.IsString, At: time.Now()})
			return
		}
		select {
		case in.ch <- Message{Label: label, Data: m.Data, Text: m.IsString, At: time.Now()}:
		default:
			in.dropped.Add(1)
		}
	})
}
