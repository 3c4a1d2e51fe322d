package telnet

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// Option codes used in the tests (RFC 857, 858, 1091, 1079, 1096, 1572, 1073,
// 1372, 1184, 2941, 1408, 859).
const (
	optEcho     byte = 1
	optSGA      byte = 3
	optStatus   byte = 5
	optTType    byte = 24
	optNAWS     byte = 31
	optTSpeed   byte = 32
	optLFlow    byte = 33
	optLinemode byte = 34
	optXDispLoc byte = 35
	optOldEnv   byte = 36
	optAuth     byte = 37
	optNewEnv   byte = 39
)

// cat builds a byte string from strings and bytes, so that table cases can
// spell commands by name.
func cat(parts ...any) string {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b = append(b, p...)
		case byte:
			b = append(b, p)
		case int: // an untyped constant: a subnegotiation's command byte
			b = append(b, byte(p))
		default:
			panic(fmt.Sprintf("cat: unsupported %T", p))
		}
	}
	return string(b)
}

type decodeCase struct {
	name  string
	in    string
	data  string
	reply string
}

var decodeCases = []decodeCase{
	{"empty", "", "", ""},
	{"plain text", "hello, world\r\n", "hello, world\r\n", ""},
	{"high bytes pass", "\x80\xa0\xef\xf0\xfe", "\x80\xa0\xef\xf0\xfe", ""},
	{"utf8 text", "héllo → wörld", "héllo → wörld", ""},

	{"IAC IAC", cat("a", IAC, IAC, "b"), "a\xffb", ""},
	{"IAC IAC only", cat(IAC, IAC), "\xff", ""},
	{"IAC IAC twice", cat(IAC, IAC, IAC, IAC), "\xff\xff", ""},
	{"IAC IAC then command", cat(IAC, IAC, IAC, NOP, "x"), "\xffx", ""},

	{"WILL", cat(IAC, WILL, optEcho), "", cat(IAC, DONT, optEcho)},
	{"DO", cat(IAC, DO, optSGA), "", cat(IAC, WONT, optSGA)},
	{"WONT", cat(IAC, WONT, optEcho), "", ""},
	{"DONT", cat(IAC, DONT, optEcho), "", ""},
	{"WILL between data", cat("ab", IAC, WILL, optEcho, "cd"), "abcd", cat(IAC, DONT, optEcho)},
	{"DO option 255", cat(IAC, DO, IAC, "x"), "x", cat(IAC, WONT, IAC)},
	{"WILL option 0", cat(IAC, WILL, byte(0), "x"), "x", cat(IAC, DONT, byte(0))},
	{"all four verbs", cat(IAC, WILL, byte(1), IAC, WONT, byte(2), IAC, DO, byte(3), IAC, DONT, byte(4)),
		"", cat(IAC, DONT, byte(1), IAC, WONT, byte(3))},

	{"SB dropped", cat("a", IAC, SB, optTType, byte(1), IAC, SE, "b"), "ab", ""},
	{"SB with IAC IAC inside", cat("a", IAC, SB, optTType, byte(0), "x", IAC, IAC, "y", IAC, SE, "b"), "ab", ""},
	{"SB with bare SE inside", cat(IAC, SB, optTType, SE, "x", SE, IAC, SE, "ok"), "ok", ""},
	{"SB with CR NUL inside", cat(IAC, SB, optNAWS, "\r\x00\r", IAC, SE, "\x00ok"), "\x00ok", ""},
	{"SB empty", cat(IAC, SB, IAC, SE, "ok"), "ok", ""},
	{"SB long payload", cat("<", IAC, SB, optNewEnv, byte(0), string(bytes.Repeat([]byte("VAR\x01value"), 50)), IAC, SE, ">"), "<>", ""},
	{"SB with WILL inside payload", cat(IAC, SB, optTType, WILL, optEcho, IAC, SE, "x"), "x", ""},
	{"SB unterminated", cat("a", IAC, SB, optTType, "never ends"), "a", ""},
	{"SB ends with IAC", cat("a", IAC, SB, optTType, "x", IAC), "a", ""},
	{"SB malformed then WILL", cat(IAC, SB, optTType, byte(0), "xy", IAC, WILL, optEcho, "hello"), "hello", cat(IAC, DONT, optEcho)},
	{"SB malformed then NOP", cat(IAC, SB, optTType, "xy", IAC, NOP, "abc"), "abc", ""},
	{"SB malformed then SB", cat(IAC, SB, optTType, "x", IAC, SB, optNAWS, "y", IAC, SE, "ok"), "ok", ""},
	{"SB malformed then DO", cat(IAC, SB, optTType, IAC, DO, optSGA, "z"), "z", cat(IAC, WONT, optSGA)},
	{"SB malformed then data byte", cat(IAC, SB, optTType, IAC, "abc"), "bc", ""},

	{"GA and NOP", cat("a", IAC, GA, "b", IAC, NOP, "c"), "abc", ""},
	{"other commands", cat("1", IAC, DM, "2", IAC, BRK, "3", IAC, IP, "4", IAC, AO, "5", IAC, AYT, "6", IAC, EC, "7", IAC, EL, "8"), "12345678", ""},
	{"stray SE", cat("a", IAC, SE, "b"), "ab", ""},
	{"unknown command 0", cat("a", IAC, byte(0), "b"), "ab", ""},
	{"unknown command letter", cat("a", IAC, "Xb"), "ab", ""},
	{"unknown command 239", cat("a", IAC, byte(239), "b"), "ab", ""},
	{"unknown command CR", cat("a", IAC, "\r\x00b"), "a\x00b", ""},

	{"CR NUL", "a\r\x00b", "a\rb", ""},
	{"CR NUL at end", "a\r\x00", "a\r", ""},
	{"CR NUL at start", "\r\x00b", "\rb", ""},
	{"CR LF", "a\r\nb\r\n", "a\r\nb\r\n", ""},
	{"CR NUL NUL", "a\r\x00\x00b", "a\r\x00b", ""},
	{"CR CR NUL", "\r\r\x00", "\r\r", ""},
	{"CR NUL CR NUL", "\r\x00\r\x00", "\r\r", ""},
	{"NUL alone passes", "a\x00b\x00", "a\x00b\x00", ""},
	{"NUL first passes", "\x00a", "\x00a", ""},
	{"LF NUL passes", "\n\x00", "\n\x00", ""},
	{"lone CR at end", "abc\r", "abc\r", ""},
	{"CR x", "\rx\r", "\rx\r", ""},
	// Commands are out of band, so a NUL after them still pairs with the CR.
	{"CR NOP NUL", cat("\r", IAC, NOP, "\x00x"), "\rx", ""},
	{"CR WILL NUL", cat("\r", IAC, WILL, optEcho, "\x00x"), "\rx", cat(IAC, DONT, optEcho)},
	{"CR SB NUL", cat("\r", IAC, SB, optTType, "\r", IAC, SE, "\x00x"), "\rx", ""},
	{"CR malformed SB NUL", cat("\r", IAC, SB, optTType, IAC, GA, "\x00x"), "\rx", ""},
	// An escaped 0xFF is data, so it ends the CR.
	{"CR IAC IAC NUL", cat("\r", IAC, IAC, "\x00"), "\r\xff\x00", ""},

	{"IAC at end", cat("abc", IAC), "abc", ""},
	{"IAC WILL at end", cat("abc", IAC, WILL), "abc", ""},
	{"IAC SB at end", cat("abc", IAC, SB), "abc", ""},

	{
		// What GNU inetutils telnetd sends on connect: terminal-type
		// probing, then (after our refusals) its usual server options, a
		// TTYPE SEND it issues regardless, the issue banner and the login
		// prompt.
		"inetutils telnetd opening",
		cat(IAC, DO, optAuth,
			IAC, DO, optTType,
			IAC, DO, optTSpeed,
			IAC, DO, optXDispLoc,
			IAC, DO, optNewEnv,
			IAC, DO, optOldEnv,
			IAC, SB, optTType, byte(1), IAC, SE,
			IAC, WILL, optSGA,
			IAC, DO, optEcho,
			IAC, DO, optNAWS,
			IAC, WILL, optStatus,
			IAC, DO, optLFlow,
			IAC, DO, optLinemode,
			IAC, WILL, optEcho,
			IAC, WONT, optLinemode,
			"\r\nDebian GNU/Linux 12\r\n\r\n",
			"host login: "),
		"\r\nDebian GNU/Linux 12\r\n\r\nhost login: ",
		cat(IAC, WONT, optAuth,
			IAC, WONT, optTType,
			IAC, WONT, optTSpeed,
			IAC, WONT, optXDispLoc,
			IAC, WONT, optNewEnv,
			IAC, WONT, optOldEnv,
			IAC, DONT, optSGA,
			IAC, WONT, optEcho,
			IAC, WONT, optNAWS,
			IAC, DONT, optStatus,
			IAC, WONT, optLFlow,
			IAC, WONT, optLinemode,
			IAC, DONT, optEcho),
	},
	{
		"HTTP response passes",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
		"",
	},
}

// decodeChunks feeds chunks to a fresh Decoder and concatenates the output.
// It also checks the per-call bound len(data) <= len(chunk).
func decodeChunks(t testing.TB, chunks ...[]byte) (data, reply []byte) {
	t.Helper()
	var d Decoder
	for _, c := range chunks {
		n, r := len(data), len(reply)
		data, reply = d.Decode(data, reply, c)
		if got := len(data) - n; got > len(c) {
			t.Fatalf("Decode(%q) produced %d data bytes from %d input bytes", c, got, len(c))
		}
		if len(reply) < r {
			t.Fatalf("Decode shrank reply")
		}
	}
	return data, reply
}

func checkResult(t *testing.T, what string, data, reply []byte, c decodeCase) {
	t.Helper()
	if string(data) != c.data {
		t.Errorf("%s: data = %q, want %q", what, data, c.data)
	}
	if string(reply) != c.reply {
		t.Errorf("%s: reply = %q, want %q", what, reply, c.reply)
	}
}

func TestDecode(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			data, reply := decodeChunks(t, []byte(c.in))
			checkResult(t, "one shot", data, reply, c)

			rd, rr := refDecode([]byte(c.in))
			checkResult(t, "reference", rd, rr, c)
		})
	}
}

func TestDecodeSplit(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			for k := 0; k <= len(in); k++ {
				data, reply := decodeChunks(t, in[:k], in[k:])
				checkResult(t, fmt.Sprintf("split at %d", k), data, reply, c)
			}

			chunks := make([][]byte, len(in))
			for i := range in {
				chunks[i] = in[i : i+1]
			}
			data, reply := decodeChunks(t, chunks...)
			checkResult(t, "byte by byte", data, reply, c)

			// Three-way splits catch states that only arise two calls deep
			// (e.g. IAC | SB | ... or CR | IAC NOP | NUL).
			if len(in) <= 64 {
				for i := 0; i <= len(in); i++ {
					for j := i; j <= len(in); j++ {
						data, reply := decodeChunks(t, in[:i], in[i:j], in[j:])
						checkResult(t, fmt.Sprintf("split at %d,%d", i, j), data, reply, c)
					}
				}
			}
		})
	}
}

// TestDecodeChunked spells out the cross-call cases the brief calls out by name.
func TestDecodeChunked(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		data   []string // per call
		reply  string
	}{
		{"CR then NUL", []string{"abc\r", "\x00def"}, []string{"abc\r", "def"}, ""},
		{"CR then LF", []string{"abc\r", "\ndef"}, []string{"abc\r", "\ndef"}, ""},
		{"CR then empty then NUL", []string{"abc\r", "", "\x00"}, []string{"abc\r", "", ""}, ""},
		{"IAC then IAC", []string{"a\xff", "\xffb"}, []string{"a", "\xffb"}, ""},
		{"IAC then WILL then option", []string{"\xff", "\xfb", "\x01x"}, []string{"", "", "x"}, cat(IAC, DONT, optEcho)},
		{
			"SB spanning calls",
			[]string{cat("a", IAC, SB, optTType), "payload", cat(IAC), cat(IAC, "more"), cat(IAC), cat(SE, "b")},
			[]string{"a", "", "", "", "", "b"},
			"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			var reply []byte
			for i, c := range tt.chunks {
				var data []byte
				data, reply = d.Decode(nil, reply, []byte(c))
				if string(data) != tt.data[i] {
					t.Errorf("call %d: data = %q, want %q", i, data, tt.data[i])
				}
			}
			if string(reply) != tt.reply {
				t.Errorf("reply = %q, want %q", reply, tt.reply)
			}
		})
	}
}

func TestDecodeAppends(t *testing.T) {
	var d Decoder
	data, reply := d.Decode([]byte("pre:"), []byte("r:"), []byte(cat("x", IAC, DO, optEcho, "y")))
	if string(data) != "pre:xy" {
		t.Errorf("data = %q, want %q", data, "pre:xy")
	}
	if want := cat("r:", IAC, WONT, optEcho); string(reply) != want {
		t.Errorf("reply = %q, want %q", reply, want)
	}
}

func TestDecodeAlias(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			buf := []byte(c.in)
			var d Decoder
			data, reply := d.Decode(buf[:0], nil, buf)
			checkResult(t, "in place", data, reply, c)

			// In place across every two-way split, as a reader reusing its
			// buffer would do.
			in := []byte(c.in)
			for k := 0; k <= len(in); k++ {
				var d Decoder
				var out, reply []byte
				for _, part := range [][]byte{in[:k], in[k:]} {
					buf := bytes.Clone(part)
					var data []byte
					data, reply = d.Decode(buf[:0], reply, buf)
					out = append(out, data...)
				}
				checkResult(t, fmt.Sprintf("in place split at %d", k), out, reply, c)
			}
		})
	}
}

func TestDecodeNoAlloc(t *testing.T) {
	var in []byte
	for _, c := range decodeCases {
		in = append(in, c.in...)
		in = append(in, IAC, SE) // resynchronise after unterminated cases
	}
	dst := make([]byte, 0, len(in))
	reply := make([]byte, 0, len(in)) // a 3-byte reply needs 3 input bytes
	var d Decoder
	allocs := testing.AllocsPerRun(100, func() {
		d.Decode(dst[:0], reply[:0], in)
	})
	if allocs != 0 {
		t.Errorf("Decode allocated %v times per run, want 0", allocs)
	}

	esc := make([]byte, 0, 2*len(in))
	allocs = testing.AllocsPerRun(100, func() {
		Escape(esc[:0], in)
	})
	if allocs != 0 {
		t.Errorf("Escape allocated %v times per run, want 0", allocs)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "hello\r\n", "hello\r\n"},
		{"one IAC", "\xff", "\xff\xff"},
		{"IAC inside", "a\xffb", "a\xff\xffb"},
		{"IAC at ends", "\xffab\xff", "\xff\xffab\xff\xff"},
		{"IAC run", "\xff\xff\xff", "\xff\xff\xff\xff\xff\xff"},
		{"other high bytes", "\xfe\xf0\x80", "\xfe\xf0\x80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape(nil, []byte(tt.in)); string(got) != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := Escape([]byte("pre"), []byte(tt.in)); string(got) != "pre"+tt.want {
				t.Errorf("Escape appending: got %q, want %q", got, "pre"+tt.want)
			}
		})
	}
}

// refDecode is a deliberately naive byte-at-a-time decoder used as an oracle
// for the run-copying fast path in Decode.
func refDecode(in []byte) (data, reply []byte) {
	const (
		sData = iota
		sIAC
		sOpt
		sSB
		sSBIAC
	)
	st := sData
	var verb byte
	cr := false
	emit := func(c byte) {
		if cr && c == 0 {
			cr = false
			return
		}
		data = append(data, c)
		cr = c == '\r'
	}
	command := func(c byte) {
		switch c {
		case IAC:
			emit(c)
			st = sData
		case WILL, WONT, DO, DONT:
			verb = c
			st = sOpt
		case SB:
			st = sSB
		default:
			st = sData
		}
	}
	for _, c := range in {
		switch st {
		case sData:
			if c == IAC {
				st = sIAC
			} else {
				emit(c)
			}
		case sIAC:
			command(c)
		case sOpt:
			switch verb {
			case WILL:
				reply = append(reply, IAC, DONT, c)
			case DO:
				reply = append(reply, IAC, WONT, c)
			}
			st = sData
		case sSB:
			if c == IAC {
				st = sSBIAC
			}
		case sSBIAC:
			switch c {
			case SE:
				st = sData
			case IAC:
				st = sSB
			default:
				command(c)
			}
		}
	}
	return data, reply
}

// stripCRNUL returns b without every NUL that directly follows a CR in b:
// exactly what survives a trip through Escape and Decode.
func stripCRNUL(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i, c := range b {
		if c == 0 && i > 0 && b[i-1] == '\r' {
			continue
		}
		out = append(out, c)
	}
	return out
}

func addSeeds(f *testing.F) {
	for i, c := range decodeCases {
		f.Add([]byte(c.in), uint(i))
	}
}

func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte, split uint) {
		k := int(split % uint(len(in)+1))

		data, reply := decodeChunks(t, in)
		if len(data) > len(in) {
			t.Fatalf("data longer than input: %d > %d", len(data), len(in))
		}

		sd, sr := decodeChunks(t, in[:k], in[k:])
		if !bytes.Equal(sd, data) || !bytes.Equal(sr, reply) {
			t.Fatalf("split at %d: got (%q, %q), one shot gave (%q, %q)", k, sd, sr, data, reply)
		}

		rd, rr := refDecode(in)
		if !bytes.Equal(rd, data) || !bytes.Equal(rr, reply) {
			t.Fatalf("reference gave (%q, %q), Decode gave (%q, %q)", rd, rr, data, reply)
		}

		buf := bytes.Clone(in)
		var d Decoder
		ad, ar := d.Decode(buf[:0], nil, buf)
		if !bytes.Equal(ad, data) || !bytes.Equal(ar, reply) {
			t.Fatalf("in place gave (%q, %q), want (%q, %q)", ad, ar, data, reply)
		}

		// With urgent data pending (a Synch), commands are answered the
		// same, and only the data after the first DM is kept.
		var ud Decoder
		ud.Urgent(true)
		udata, ureply := ud.Decode(nil, nil, in)
		if !bytes.Equal(ureply, reply) || !bytes.HasSuffix(data, udata) {
			t.Fatalf("urgent gave (%q, %q), want a suffix of %q and %q", udata, ureply, data, reply)
		}

		if len(reply)%3 != 0 {
			t.Fatalf("reply %q is not a sequence of triples", reply)
		}
		for i := 0; i < len(reply); i += 3 {
			if reply[i] != IAC || (reply[i+1] != DONT && reply[i+1] != WONT) {
				t.Fatalf("reply %q: triple at %d is not IAC DONT/WONT x", reply, i)
			}
		}
	})
}

func FuzzEscapeRoundTrip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte, split uint) {
		e := Escape(nil, b)
		if want := len(b) + bytes.Count(b, []byte{IAC}); len(e) != want {
			t.Fatalf("len(Escape(%q)) = %d, want %d", b, len(e), want)
		}

		k := int(split % uint(len(e)+1))
		var d Decoder
		data, reply := d.Decode(nil, nil, e[:k])
		data, reply = d.Decode(data, reply, e[k:])

		// Escape makes every byte data, so only the NVT rule changes it.
		if want := stripCRNUL(b); !bytes.Equal(data, want) {
			t.Fatalf("Decode(Escape(%q)) = %q, want %q", b, data, want)
		}
		if len(reply) != 0 {
			t.Fatalf("escaped data produced reply %q", reply)
		}
		if d.state != stateData {
			t.Fatalf("escaped data left decoder in state %d", d.state)
		}
	})
}

// textLines returns n bytes of 80-column ASCII lines ending in CR LF.
func textLines(n int) []byte {
	const words = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. "
	b := make([]byte, 0, n+82)
	for i := 0; len(b) < n; i++ {
		for j := range 80 {
			b = append(b, words[(i*7+j)%len(words)])
		}
		b = append(b, "\r\n"...)
	}
	return b[:n]
}

// textWithCommands is textLines with telnet traffic sprinkled in: an escaped
// 0xFF, a negotiation, a GA and a short subnegotiation every few lines.
func textWithCommands(n int) []byte {
	plain := textLines(n)
	b := make([]byte, 0, n+n/8)
	for i, line := range bytes.SplitAfter(plain, []byte("\r\n")) {
		switch i % 4 {
		case 0:
			b = append(b, IAC, IAC)
		case 1:
			b = append(b, IAC, DO, optNAWS, IAC, WILL, optEcho)
		case 2:
			b = append(b, IAC, SB, optTType, 1, IAC, SE)
		case 3:
			b = append(b, IAC, GA)
		}
		b = append(b, line...)
	}
	return b
}

func benchDecode(b *testing.B, in []byte) {
	dst := make([]byte, 0, len(in))
	reply := make([]byte, 0, len(in))
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		d.Decode(dst[:0], reply[:0], in)
	}
}

func BenchmarkDecodePlain(b *testing.B) {
	benchDecode(b, textLines(32<<10))
}

func BenchmarkDecodeWithCommands(b *testing.B) {
	benchDecode(b, textWithCommands(32<<10))
}

func BenchmarkEscape(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   []byte
	}{
		{"text", textLines(32 << 10)},
		{"binary", func() []byte {
			r := rand.New(rand.NewPCG(1, 2))
			p := make([]byte, 32<<10)
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			return p
		}()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dst := make([]byte, 0, 2*len(bc.in))
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				Escape(dst[:0], bc.in)
			}
		})
	}
}
