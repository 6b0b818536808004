package rtc

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batching is on: Linux has sendmmsg.
const batching = true

// outBatch is one batch of datagrams in the form sendmmsg takes: every header, address, control
// message and buffer is preallocated, so adding a datagram only copies it.
type outBatch struct {
	n     int
	hdrs  [egressBatch]unix.Mmsghdr
	iovs  [egressBatch]unix.Iovec
	names [egressBatch]unix.RawSockaddrInet4
	oobs  [egressBatch][64]byte // IP_PKTINFO control messages (32 bytes on 64-bit Linux)
	bufs  [egressBatch][egressSlot]byte

	// the send in progress, for the RawConn callback (bound once: no allocation per send)
	off, calls, failed int
	fn                 func(fd uintptr) bool
}

func newOutBatch() *outBatch {
	b := &outBatch{}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i][0]
		h := &b.hdrs[i].Hdr
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Namelen = unix.SizeofSockaddrInet4
		b.names[i].Family = unix.AF_INET
	}
	b.fn = b.sendSome
	return b
}

// add copies datagram p to addr (from the source named by oob, if any) into the next slot.
func (b *outBatch) add(p []byte, oob []byte, addr netip.AddrPort) {
	i := b.n
	copy(b.bufs[i][:], p)
	b.iovs[i].SetLen(len(p))
	sa := &b.names[i]
	sa.Addr = addr.Addr().Unmap().As4()
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], addr.Port())
	h := &b.hdrs[i].Hdr
	if n := copy(b.oobs[i][:], oob); n > 0 {
		h.Control = &b.oobs[i][0]
		h.SetControllen(n)
	} else {
		h.Control = nil
		h.SetControllen(0)
	}
	b.n++
}

// reset empties the batch.
func (b *outBatch) reset() { b.n = 0 }

// sendAll sends the batch with as few sendmmsg calls as the kernel allows; it returns the calls
// made and the datagrams refused.
func (b *outBatch) sendAll(raw syscall.RawConn) (calls, failed int) {
	b.off, b.calls, b.failed = 0, 0, 0
	if err := raw.Write(b.fn); err != nil { // the socket is closed: nothing more leaves
		b.failed += b.n - b.off
	}
	return b.calls, b.failed
}

// sendSome is the RawConn write callback: it sends from b.off on, and returns false to wait for
// the socket to become writable again (EAGAIN).
func (b *outBatch) sendSome(fd uintptr) bool {
	for b.off < b.n {
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[b.off])),
			uintptr(b.n-b.off), 0, 0, 0)
		b.calls++
		switch {
		case errno == 0:
			b.off += int(r)
		case errno == unix.EAGAIN:
			return false
		case errno == unix.EINTR:
		default: // the first datagram was refused (no route, a bad address): skip it alone
			b.failed++
			b.off++
		}
	}
	return true
}
