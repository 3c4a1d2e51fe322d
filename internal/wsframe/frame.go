// Package wsframe reads and writes WebSocket frames (RFC 6455) on a
// connection that golang.org/x/net/websocket has upgraded.
//
// The gateway uses golang.org/x/net/websocket for the opening handshake
// (Upgrade): it checks the request, answers it and negotiates the
// subprotocol. Everything after the handshake is done here, for two
// reasons. The library's reader checks almost nothing of RFC 6455 (it
// relays fragments as separate messages, accepts unknown opcodes, reserved
// bits, invalid UTF-8 and invalid close codes, and answers pings only while
// someone reads), and its writer allocates three objects and makes one
// system call for every frame. Here a Reader enforces the RFC and
// reassembles messages within a size limit, and a Writer gathers frames
// into one system call, gives every write a deadline, and sends at most
// one close frame, whoever asks.
//
// The package also holds the client side of the codec (masked frames out,
// unmasked in) for the tests and the benchmark harness.
package wsframe

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Opcodes (RFC 6455 section 5.2).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Close codes (RFC 6455 section 7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	CloseNoStatus        = 1005 // never sent: stands for a close frame without a code
	CloseInvalidData     = 1007
	ClosePolicy          = 1008
	CloseTooBig          = 1009
	CloseInternalError   = 1011
	CloseTryAgainLater   = 1013 // IANA's registry: a refusal that may pass, such as a full server
)

// MaxControlPayload is the largest payload of a control frame.
const MaxControlPayload = 125

// MaxCloseReason is the longest close reason: a control frame's payload
// less the two bytes of the code.
const MaxCloseReason = MaxControlPayload - 2

// MaxHeader is the longest frame header: 2 bytes, 8 of length, 4 of mask.
const MaxHeader = 14

// isControl reports whether op is a control opcode (close, ping, pong).
func isControl(op byte) bool { return op&0x8 != 0 }

// AppendHeader appends the header of a final (FIN) frame with opcode op and
// an n-byte payload, unmasked, as a server sends it.
func AppendHeader(b []byte, op byte, n int) []byte {
	return appendHeader(b, 0x80|op, 0, n)
}

// AppendMaskedHeader appends the header of a final frame masked with key,
// as a client sends it; the payload must be masked with Mask(key, 0, p).
func AppendMaskedHeader(b []byte, op byte, n int, key [4]byte) []byte {
	b = appendHeader(b, 0x80|op, 0x80, n)
	return append(b, key[:]...)
}

func appendHeader(b []byte, b0, maskBit byte, n int) []byte {
	b = append(b, b0)
	switch {
	case n < 126:
		return append(b, maskBit|byte(n))
	case n < 1<<16:
		return append(b, maskBit|126, byte(n>>8), byte(n))
	default:
		b = append(b, maskBit|127)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
}

// Mask XORs p in place with key, starting at position pos of the payload
// (so that a payload can be masked in pieces), and returns the position
// after p. Eight bytes at a time: the byte loop costs a third of the
// throughput of a busy upload.
func Mask(key [4]byte, pos int, p []byte) int {
	k := binary.LittleEndian.Uint32(key[:])
	k = bits.RotateLeft32(k, -8*(pos&3)) // so that byte 0 of k applies to p[0]
	if len(p) >= 8 {
		k64 := uint64(k) | uint64(k)<<32
		for len(p) >= 8 {
			binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k64)
			p = p[8:]
			pos += 8
		}
	}
	for i := range p {
		p[i] ^= byte(k)
		k = bits.RotateLeft32(k, -8)
		pos++
	}
	return pos
}

// AppendClosePayload appends a close frame's payload: the code and the
// reason, cut to MaxCloseReason bytes between characters (a browser fails
// a close frame whose reason is not valid UTF-8).
func AppendClosePayload(b []byte, code int, reason string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	return append(b, TruncateReason(reason)...)
}

// TruncateReason cuts reason to at most MaxCloseReason bytes, between
// characters, and drops invalid UTF-8.
func TruncateReason(reason string) string {
	if len(reason) <= MaxCloseReason && utf8.ValidString(reason) {
		return reason
	}
	if len(reason) > MaxCloseReason {
		cut := MaxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	return toValidUTF8(reason)
}

func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s))
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r != utf8.RuneError || n > 1 {
			out = append(out, s[:n]...)
		}
		s = s[n:]
	}
	return string(out)
}

// ValidCloseCode reports whether a peer may send code in a close frame
// (RFC 6455 section 7.4): the defined codes other than those reserved for
// reporting (1004, 1005, 1006, 1015), the IANA-registered 1012-1014, and
// 3000-4999 for libraries and applications.
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
