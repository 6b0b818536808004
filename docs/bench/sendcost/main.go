//go:build linux && amd64

// Command sendcost measures what one UDP datagram costs its sender on loopback: with one sendto
// per packet (wisp's fan-out through pion's UDP mux) and with sendmmsg batches, the batching
// writer wisp could add. Receivers run in a second process, so the sender's CPU time (user +
// system, from getrusage) is the figure; on loopback it includes the kernel's delivery to the
// receiving socket. See docs/benchmarks.md, "What stands in the way".
//
//	taskset -c 1 go run ./docs/bench/sendcost -recv -n 100 &
//	taskset -c 0 go run ./docs/bench/sendcost -n 100 -batch 1
//	taskset -c 0 go run ./docs/bench/sendcost -n 100 -batch 32
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	recv := flag.Bool("recv", false, "run the receivers (until killed)")
	n := flag.Int("n", 100, "receiving sockets, one per viewer")
	batch := flag.Int("batch", 1, "datagrams per system call: 1 = sendto, more = sendmmsg")
	total := flag.Int("packets", 300000, "datagrams to send")
	size := flag.Int("size", 1200, "datagram size, bytes")
	port := flag.Int("port", 30000, "first receiver port on 127.0.0.1")
	flag.Parse()
	var err error
	if *recv {
		err = receive(*n, *port)
	} else {
		err = send(*n, *batch, *total, *size, *port)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sendcost:", err)
		os.Exit(1)
	}
}

func receive(n, port int) error {
	for i := range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + i})
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		_ = c.SetReadBuffer(4 << 20)
		go func() {
			b := make([]byte, 65536)
			for {
				if _, err := c.Read(b); err != nil {
					return
				}
			}
		}()
	}
	select {}
}

// sysSendmmsg is sendmmsg(2) on linux/amd64; package syscall does not name it.
const sysSendmmsg = 307

// mmsghdr is struct mmsghdr of sendmmsg(2).
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
	_   [4]byte
}

func send(n, batch, total, size, port int) error {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer c.Close()
	_ = c.SetWriteBuffer(4 << 20)
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("raw conn: %w", err)
	}
	payload := make([]byte, size)
	addrs := make([]syscall.RawSockaddrInet4, n)
	for i := range addrs {
		addrs[i].Family = syscall.AF_INET
		addrs[i].Addr = [4]byte{127, 0, 0, 1}
		p := uint16(port + i)
		addrs[i].Port = p<<8 | p>>8 // network byte order
	}
	iov := syscall.Iovec{Base: &payload[0]}
	iov.SetLen(size)
	msgs := make([]mmsghdr, batch)
	start, cpu0 := time.Now(), cpuTime()
	sent := 0
	for sent < total {
		k := min(batch, total-sent)
		for i := range k {
			m := &msgs[i].hdr
			m.Name = (*byte)(unsafe.Pointer(&addrs[(sent+i)%n]))
			m.Namelen = syscall.SizeofSockaddrInet4
			m.Iov, m.Iovlen = &iov, 1
		}
		var errno syscall.Errno
		var done uintptr
		if err := raw.Write(func(fd uintptr) bool {
			if batch == 1 {
				_, _, errno = syscall.Syscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&payload[0])), uintptr(size), 0,
					uintptr(unsafe.Pointer(&addrs[sent%n])), syscall.SizeofSockaddrInet4)
				done = 1
			} else {
				done, _, errno = syscall.Syscall6(sysSendmmsg, fd, uintptr(unsafe.Pointer(&msgs[0])), uintptr(k), 0, 0, 0)
			}
			return errno != syscall.EAGAIN
		}); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		if errno != 0 {
			return fmt.Errorf("send: %w", errno)
		}
		before := sent
		sent += int(done)
		if sent/1000 != before/1000 {
			time.Sleep(5 * time.Millisecond) // at most ~200 k datagrams/s, so receivers keep up
		}
	}
	cpu := cpuTime() - cpu0
	fmt.Printf("batch=%d receivers=%d datagrams=%d size=%d wall=%v cpu=%v cpu/datagram=%v cpu-s/GB=%.2f\n",
		batch, n, sent, size, time.Since(start).Round(time.Millisecond), cpu.Round(time.Millisecond),
		cpu/time.Duration(sent), cpu.Seconds()/(float64(sent)*float64(size)/1e9))
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
