//go:build linux

package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// errClosed is returned by next once the server's close frame has arrived
// (and has been answered).
var errClosed = errors.New("the server closed the WebSocket")

// wsConn is the harness's WebSocket client. It is written for speed rather
// than generality, so that the relays and not the client are measured:
// frames are read from one large bufio.Reader and payloads the harness only
// counts are skipped without copying; frames are masked into one reused
// buffer and written with a single Write.
type wsConn struct {
	conn     net.Conn
	r        *bufio.Reader
	protocol string // the subprotocol the server confirmed, "" for none

	key  [4]byte // masking key
	wbuf []byte  // reused for outgoing frames
	frag byte    // opcode of the fragmented message in progress
	ctrl [125]byte
}

// dialWS opens a WebSocket to ws://addr+path, offering protocol if it is
// not empty. The Origin is the server's own, as a browser on its page sends.
func dialWS(addr, path, protocol string) (*wsConn, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	w, err := handshake(conn, addr, path, protocol)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("WebSocket handshake with %s%s: %w", addr, path, err)
	}
	return w, nil
}

func handshake(conn net.Conn, addr, path, protocol string) (*wsConn, error) {
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, addr)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: http://%s\r\n", key, addr)
	if protocol != "" {
		fmt.Fprintf(&req, "Sec-WebSocket-Protocol: %s\r\n", protocol)
	}
	req.WriteString("\r\n")

	conn.SetDeadline(time.Now().Add(30 * time.Second))
	defer conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("got %s, want 101 Switching Protocols", resp.Status)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("Sec-WebSocket-Accept is %q, want %q", got, want)
	}
	w := &wsConn{conn: conn, r: r, protocol: resp.Header.Get("Sec-WebSocket-Protocol")}
	// One key per connection, not per frame: masking protects proxies from
	// scripts in browsers, which this client is not; servers cannot tell.
	rand.Read(w.key[:])
	return w, nil
}

// next reads frame headers until the next data frame and returns its
// opcode (text or binary; continuations get the opcode of their message)
// and payload length; the caller must then read or skip exactly n bytes.
// Pings are answered; a close frame is answered and ends with errClosed.
func (w *wsConn) next() (op byte, n int, err error) {
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(w.r, hdr[:]); err != nil {
			return 0, 0, err
		}
		fin, op, masked := hdr[0]&0x80 != 0, hdr[0]&0x0F, hdr[1]&0x80 != 0
		if masked {
			return 0, 0, errors.New("the server sent a masked frame")
		}
		n := uint64(hdr[1] & 0x7F)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(w.r, ext[:]); err != nil {
				return 0, 0, err
			}
			n = uint64(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err := io.ReadFull(w.r, ext[:]); err != nil {
				return 0, 0, err
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		if op >= opClose {
			if n > 125 {
				return 0, 0, fmt.Errorf("control frame of %d bytes", n)
			}
			p := w.ctrl[:n]
			if _, err := io.ReadFull(w.r, p); err != nil {
				return 0, 0, err
			}
			switch op {
			case opPing:
				if err := w.write(opPong, p); err != nil {
					return 0, 0, err
				}
			case opClose:
				// Echo the status code, as RFC 6455 asks.
				w.write(opClose, p[:min(len(p), 2)])
				return 0, 0, errClosed
			}
			continue
		}
		if n > 1<<30 {
			return 0, 0, fmt.Errorf("frame of %d bytes", n)
		}
		switch {
		case op == opContinuation:
			op = w.frag
		case !fin:
			w.frag = op
		}
		return op, int(n), nil
	}
}

// skip discards n payload bytes without copying them anywhere.
func (w *wsConn) skip(n int) error {
	_, err := w.r.Discard(n)
	return err
}

// read reads an n-byte payload into buf, growing it if needed.
func (w *wsConn) read(buf []byte, n int) ([]byte, error) {
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(w.r, buf)
	return buf, err
}

// message reads the next data message whole (the handshake answers and
// control messages are small).
func (w *wsConn) message() (op byte, p []byte, err error) {
	op, n, err := w.next()
	if err != nil {
		return 0, nil, err
	}
	p, err = w.read(nil, n)
	return op, p, err
}

// write sends one masked frame.
func (w *wsConn) write(op byte, p []byte) error {
	w.wbuf = appendFrame(w.wbuf[:0], op, p, w.key)
	_, err := w.conn.Write(w.wbuf)
	return err
}

// close sends a close frame, which the relays answer by ending the session,
// and closes the connection without waiting for their answer. It builds
// the frame in its own buffer: on Ctrl-C it runs while another goroutine
// may be writing.
func (w *wsConn) close() {
	w.conn.SetWriteDeadline(time.Now().Add(time.Second))
	w.conn.Write(appendFrame(make([]byte, 0, 16), opClose, []byte{0x03, 0xE8}, w.key)) // 1000, normal closure
	w.conn.Close()
}

// appendFrame appends a final, masked frame carrying p to dst.
func appendFrame(dst []byte, op byte, p []byte, key [4]byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(p); {
	case n <= 125:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, p...)
	mask(dst[start:], key)
	return dst
}

// mask XORs b with the masking key, eight bytes at a time.
func mask(b []byte, key [4]byte) {
	k32 := uint64(binary.LittleEndian.Uint32(key[:]))
	k64 := k32<<32 | k32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k64)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&3]
	}
}
