//go:build linux

package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"wstelnet/internal/wsframe"
)

// WebSocket opcodes, from the gateway's own codec.
const (
	opContinuation = wsframe.OpContinuation
	opText         = wsframe.OpText
	opBinary       = wsframe.OpBinary
	opClose        = wsframe.OpClose
	opPing         = wsframe.OpPing
	opPong         = wsframe.OpPong
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
	fr   *wsframe.Reader // the server's frames, over r
}

// dialWS opens a WebSocket to ws://addr+path, offering protocol if it is
// not empty. The Origin is the server's own, as a browser on its page sends.
func dialWS(addr, path, protocol string) (*wsConn, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	w, err := handshake(conn, "http", addr, path, protocol)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("WebSocket handshake with %s%s: %w", addr, path, err)
	}
	return w, nil
}

// handshake upgrades conn; scheme ("http" or "https") makes the Origin,
// which the gateway checks against its own.
func handshake(conn net.Conn, scheme, addr, path, protocol string) (*wsConn, error) {
	return handshakeSize(conn, scheme, addr, path, protocol, 64<<10)
}

// handshakeSize is handshake with a read buffer of bufSize bytes: the load
// tool holds thousands of connections, each with a few short lines.
func handshakeSize(conn net.Conn, scheme, addr, path, protocol string, bufSize int) (*wsConn, error) {
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, addr)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s://%s\r\n", key, scheme, addr)
	if protocol != "" {
		fmt.Fprintf(&req, "Sec-WebSocket-Protocol: %s\r\n", protocol)
	}
	req.WriteString("\r\n")

	conn.SetDeadline(time.Now().Add(30 * time.Second))
	defer conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(conn, bufSize)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("got %s, want 101 Switching Protocols", resp.Status)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(key); got != want {
		return nil, fmt.Errorf("Sec-WebSocket-Accept is %q, want %q", got, want)
	}
	w := &wsConn{conn: conn, r: r, protocol: resp.Header.Get("Sec-WebSocket-Protocol")}
	w.fr = wsframe.NewReader(r, false, nil)
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
		h, err := w.fr.ReadHeader()
		if err != nil {
			return 0, 0, err
		}
		if h.Masked {
			return 0, 0, errors.New("the server sent a masked frame")
		}
		if h.Op >= opClose {
			if h.Len > 125 {
				return 0, 0, fmt.Errorf("control frame of %d bytes", h.Len)
			}
			p, err := w.fr.ReadPayload(w.ctrl[:0], h)
			if err != nil {
				return 0, 0, err
			}
			switch h.Op {
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
		if h.Len > 1<<30 {
			return 0, 0, fmt.Errorf("frame of %d bytes", h.Len)
		}
		op = h.Op
		switch {
		case op == opContinuation:
			op = w.frag
		case !h.Fin:
			w.frag = op
		}
		return op, int(h.Len), nil
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
	dst = wsframe.AppendMaskedHeader(dst, op, len(p), key)
	start := len(dst)
	dst = append(dst, p...)
	wsframe.Mask(key, 0, dst[start:])
	return dst
}

// acceptKey is the Sec-WebSocket-Accept that answers key (RFC 6455).
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}
