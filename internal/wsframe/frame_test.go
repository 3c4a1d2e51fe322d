package wsframe

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestHeaderLengths writes and reads back headers at every boundary of
// the three length encodings, masked and not.
func TestHeaderLengths(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []byte // the header after the first byte, unmasked
	}{
		{0, []byte{0}},
		{1, []byte{1}},
		{125, []byte{125}},
		{126, []byte{126, 0, 126}},
		{127, []byte{126, 0, 127}},
		{65535, []byte{126, 0xff, 0xff}},
		{65536, []byte{127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{1 << 20, []byte{127, 0, 0, 0, 0, 0, 0x10, 0, 0}},
	} {
		h := AppendHeader(nil, OpBinary, tc.n)
		if h[0] != 0x82 || !bytes.Equal(h[1:], tc.want) {
			t.Errorf("AppendHeader(%d) = % x, want 82 % x", tc.n, h, tc.want)
		}
		payload := bytes.Repeat([]byte{'x'}, tc.n)
		for _, masked := range []bool{false, true} {
			var frame []byte
			if masked {
				key := [4]byte{1, 2, 3, 4}
				frame = AppendMaskedHeader(nil, OpBinary, tc.n, key)
				if got := frame[1] & 0x7f; got != tc.want[0] || frame[1]&0x80 == 0 {
					t.Errorf("AppendMaskedHeader(%d): second byte %#x", tc.n, frame[1])
				}
				start := len(frame)
				frame = append(frame, payload...)
				Mask(key, 0, frame[start:])
			} else {
				frame = append(h, payload...)
			}
			r := NewReader(bufio.NewReader(bytes.NewReader(frame)), masked, nil)
			f, err := r.ReadFrame(0)
			if err != nil {
				t.Fatalf("n=%d masked=%v: %v", tc.n, masked, err)
			}
			if !f.Fin || f.Op != OpBinary || f.Masked != masked || !bytes.Equal(f.Payload, payload) {
				t.Errorf("n=%d masked=%v: read back fin=%v op=%d masked=%v len=%d", tc.n, masked, f.Fin, f.Op, f.Masked, len(f.Payload))
			}
		}
	}
}

// TestReadFrameLimit: a frame over the limit is refused from its header.
func TestReadFrameLimit(t *testing.T) {
	frame := AppendHeader(nil, OpText, 200)
	r := NewReader(bufio.NewReader(bytes.NewReader(frame)), false, nil)
	_, err := r.ReadFrame(100)
	if pe, ok := err.(*ProtocolError); !ok || pe.Code != CloseTooBig {
		t.Fatalf("got %v, want a 1009 ProtocolError", err)
	}
}

// TestMask checks the word-at-a-time mask against the byte loop of RFC
// 6455 section 5.3, for every length up to 40 and every starting position.
func TestMask(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := 0; n < 40; n++ {
		for pos := 0; pos < 4; pos++ {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(i * 7)
			}
			want := bytes.Clone(p)
			for i := range want {
				want[i] ^= key[(pos+i)%4]
			}
			if end := Mask(key, pos, p); end != pos+n {
				t.Errorf("Mask returned %d, want %d", end, pos+n)
			}
			if !bytes.Equal(p, want) {
				t.Fatalf("n=%d pos=%d: % x, want % x", n, pos, p, want)
			}
		}
	}
}

// TestMaskInPieces: masking a payload in pieces equals masking it whole.
func TestMaskInPieces(t *testing.T) {
	key := [4]byte{9, 8, 7, 6}
	whole := []byte(strings.Repeat("abcdefghij", 10))
	pieces := bytes.Clone(whole)
	Mask(key, 0, whole)
	pos := 0
	for _, cut := range []int{3, 11, 8, 1, 40, 37} {
		pos = Mask(key, pos, pieces[pos:pos+cut])
	}
	if !bytes.Equal(whole, pieces) {
		t.Fatal("masking in pieces differs from masking whole")
	}
}

func TestTruncateReason(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	got := TruncateReason(long)
	if len(got) > MaxCloseReason || !utf8.ValidString(got) || len(got) != 122 {
		t.Errorf("TruncateReason: %d bytes, valid=%v", len(got), utf8.ValidString(got))
	}
	if got := TruncateReason("ok"); got != "ok" {
		t.Errorf("TruncateReason(ok) = %q", got)
	}
	if got := TruncateReason("a\xffb"); got != "ab" {
		t.Errorf("TruncateReason drops invalid UTF-8: got %q", got)
	}
	p := AppendClosePayload(nil, 1001, long)
	if binary.BigEndian.Uint16(p) != 1001 || len(p) > MaxControlPayload {
		t.Errorf("AppendClosePayload: % x", p[:2])
	}
}

func TestValidCloseCode(t *testing.T) {
	for code, want := range map[int]bool{
		0: false, 999: false, 1000: true, 1001: true, 1002: true, 1003: true,
		1004: false, 1005: false, 1006: false, 1007: true, 1011: true, 1014: true,
		1015: false, 1016: false, 2999: false, 3000: true, 4999: true, 5000: false, 65535: false,
	} {
		if got := ValidCloseCode(code); got != want {
			t.Errorf("ValidCloseCode(%d) = %v, want %v", code, got, want)
		}
	}
}
