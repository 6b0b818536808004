//go:build !linux

package rtc

import (
	"net/netip"
	"syscall"
)

// batching is off where sendmmsg does not exist: every datagram is sent at once.
const batching = false

// outBatch is never filled without sendmmsg.
type outBatch struct{ n int }

func newOutBatch() *outBatch                                    { return &outBatch{} }
func (b *outBatch) add([]byte, []byte, netip.AddrPort)          { b.n++ }
func (b *outBatch) reset()                                      { b.n = 0 }
func (b *outBatch) sendAll(syscall.RawConn) (calls, failed int) { return 0, 0 }
