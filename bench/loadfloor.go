//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"

	"wstelnet/internal/wsframe"
)

// floorRelayCommand, as the first argument followed by a target address,
// makes this program the load's floor relay instead of the harness.
const floorRelayCommand = "floor-relay"

// floorRest is the floor relay's rest after a wait, the gateway's while
// busy (internal/session's coalesceWindow).
const floorRest = time.Millisecond

// runFloorRelay is the least a WebSocket relay process can do for a
// chatty session on Linux, as a measuring stick for the load's CPU
// figures, not a program to deploy: one thread, one level-triggered epoll
// set, and per message exactly one read where it arrives and one write
// where it goes. It speaks websockify's protocol (subprotocol "binary",
// one fixed target, binary frames), so the load's clients treat it as
// they treat websockify-js. It keeps no session state beyond a partial
// frame, checks next to nothing (a load client is trusted), and blocks
// the whole loop on a write that would block, which the load never
// causes. Like the gateway's Poller while busy, it rests floorRest after
// each wait that did not fill its list of events, so that one wait takes
// many sessions' messages: without that rest the floor spent 0.44-0.47
// of a core on 9,000 chatty sessions, with it 0.20-0.27 (BENCHMARKS.md).
// What a real gateway adds to it (framing checks, limits, resume, telnet,
// logging, a goroutine's scheduling) is the difference between its
// figures and this one's.
func runFloorRelay(target string) error {
	runtime.LockOSThread()
	ta, err := net.ResolveTCPAddr("tcp4", target)
	if err != nil || ta.IP.To4() == nil {
		return fmt.Errorf("target %q: want an IPv4 host:port", target)
	}
	var to syscall.SockaddrInet4
	to.Port = ta.Port
	copy(to.Addr[:], ta.IP.To4())

	lfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	syscall.SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err := syscall.Bind(lfd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if err := syscall.Listen(lfd, 4096); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	sa, err := syscall.Getsockname(lfd)
	if err != nil {
		return fmt.Errorf("getsockname: %w", err)
	}
	fmt.Printf("floor relay: open http://127.0.0.1:%d/ in your browser\n", sa.(*syscall.SockaddrInet4).Port)

	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	watch := func(fd int) error {
		return syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)})
	}
	if err := watch(lfd); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	f := &floor{conns: map[int]*floorConn{}, to: &to, watch: watch, ep: ep}
	events := make([]syscall.EpollEvent, 512)
	for {
		n, err := syscall.EpollWait(ep, events, -1)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("epoll_wait: %w", err)
		}

		for _, ev := range events[:n] {
			if fd := int(ev.Fd); fd == lfd {
				f.accept(lfd)
			} else if c := f.conns[fd]; c != nil {
				f.readable(c)
			}
		}
		if n < len(events) {
			time.Sleep(floorRest) // let more sessions' messages come, for one wait
		}
	}
}

// floor is the relay's state: its connections by descriptor.
type floor struct {
	conns map[int]*floorConn
	to    *syscall.SockaddrInet4
	watch func(fd int) error
	ep    int
	buf   [64 << 10]byte
	out   []byte
}

// floorConn is one side of a session: the browser's (client) or the
// target's.
type floorConn struct {
	fd       int
	client   bool
	upgraded bool
	in       []byte // the browser's bytes not yet a whole frame (or request)
	peer     *floorConn
}

func (f *floor) accept(lfd int) {
	for {
		fd, _, err := syscall.Accept4(lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if err != nil {
			return // EAGAIN: none left
		}
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		f.conns[fd] = &floorConn{fd: fd, client: true}
		f.watch(fd)
	}
}

// readable reads once: level-triggered, whatever is left comes back at
// the next wait, so no read is spent finding the socket empty.
func (f *floor) readable(c *floorConn) {
	n, err := syscall.Read(c.fd, f.buf[:])
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
		return
	}
	if n <= 0 {
		f.drop(c)
		return
	}
	p := f.buf[:n]
	if !c.client { // the target's bytes: one binary frame to the browser
		if c.peer != nil {
			f.out = appendServerFrame(f.out[:0], 2, p)
			f.write(c.peer, f.out)
		}
		return
	}
	if len(c.in) > 0 {
		c.in = append(c.in, p...)
		p = c.in
	}
	rest := f.fromBrowser(c, p)
	c.in = append(c.in[:0], rest...)
}

// fromBrowser handles the browser's bytes p (the upgrade request, then
// frames) and returns what is not yet whole.
func (f *floor) fromBrowser(c *floorConn, p []byte) []byte {
	if !c.upgraded {
		end := bytes.Index(p, []byte("\r\n\r\n"))
		if end < 0 {
			return p
		}
		if err := f.upgrade(c, p[:end]); err != nil {
			fmt.Fprintf(os.Stderr, "floor relay: %v\n", err)
			f.drop(c)
			return nil
		}
		p = p[end+4:]
	}
	for len(p) >= 2 {
		op, n, hdr := p[0]&0x0f, int(p[1]&0x7f), 2
		switch n {
		case 126:
			if len(p) < 4 {
				return p
			}
			n, hdr = int(binary.BigEndian.Uint16(p[2:])), 4
		case 127:
			if len(p) < 10 {
				return p
			}
			n, hdr = int(binary.BigEndian.Uint64(p[2:])), 10
		}
		if len(p) < hdr+4+n {
			return p
		}
		key, payload := [4]byte(p[hdr:hdr+4]), p[hdr+4:hdr+4+n]
		wsframe.Mask(key, 0, payload)
		p = p[hdr+4+n:]
		switch op {
		case 0, 1, 2:
			if c.peer != nil {
				f.write(c.peer, payload)
			}
		case 8: // close: answered, and the session ends
			f.write(c, appendServerFrame(f.out[:0], 8, nil))
			f.drop(c)
			return nil
		case 9:
			f.out = appendServerFrame(f.out[:0], 10, payload)
			f.write(c, f.out)
		}
	}
	return p
}

// upgrade answers the upgrade request head and dials the target.
func (f *floor) upgrade(c *floorConn, head []byte) error {
	var key, proto []byte
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch string(bytes.ToLower(bytes.TrimSpace(name))) {
		case "sec-websocket-key":
			key = bytes.TrimSpace(value)
		case "sec-websocket-protocol":
			proto = bytes.TrimSpace(value)
		}
	}
	if key == nil {
		return errors.New("an upgrade request without Sec-WebSocket-Key")
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		acceptKey(string(key)) + "\r\n"
	if bytes.Contains(proto, []byte("binary")) {
		resp += "Sec-WebSocket-Protocol: binary\r\n"
	}
	// The target is dialled blocking (loopback answers at once), then
	// watched like any other descriptor.
	tfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	if err := syscall.Connect(tfd, f.to); err != nil {
		syscall.Close(tfd)
		return fmt.Errorf("dial the target: %w", err)
	}
	syscall.SetNonblock(tfd, true)
	syscall.SetsockoptInt(tfd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	t := &floorConn{fd: tfd, peer: c}
	c.peer, c.upgraded = t, true
	f.conns[tfd] = t
	f.watch(tfd)
	f.write(c, []byte(resp+"\r\n"))
	return nil
}

// write writes p whole; a write that would block blocks the loop (the
// load never fills a socket's buffer).
func (f *floor) write(c *floorConn, p []byte) {
	for len(p) > 0 {
		n, err := syscall.Write(c.fd, p)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			syscall.SetNonblock(c.fd, false)
			n, err = syscall.Write(c.fd, p)
			syscall.SetNonblock(c.fd, true)
		case errors.Is(err, syscall.EINTR):
			continue
		}
		if err != nil || n <= 0 {
			return // the read side finds it gone
		}
		p = p[n:]
	}
}

// drop ends a session: both of its descriptors.
func (f *floor) drop(c *floorConn) {
	for _, x := range []*floorConn{c, c.peer} {
		if x == nil || f.conns[x.fd] != x {
			continue
		}
		delete(f.conns, x.fd)
		syscall.EpollCtl(f.ep, syscall.EPOLL_CTL_DEL, x.fd, nil)
		syscall.Close(x.fd)
	}
}

// appendServerFrame appends one unmasked frame.
func appendServerFrame(b []byte, op byte, p []byte) []byte {
	return append(wsframe.AppendHeader(b, op, len(p)), p...)
}

// floorRelayMain runs the floor relay and exits.
func floorRelayMain(target string) {
	if err := runFloorRelay(target); err != nil {
		fmt.Fprintf(os.Stderr, "floor relay: %v\n", err)
		os.Exit(1)
	}
}
