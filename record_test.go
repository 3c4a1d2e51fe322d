package main

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"wstelnet/internal/asciicast"
)

// The recording tests run real sessions through the gateway with -record
// and read the files with the real player: `asciinema cat` prints what a
// recording shows.

// recordingGateway is a test gateway recording into a new directory; its
// log goes to the test and to logs.
func recordingGateway(t *testing.T, rec recorder) (*testGateway, *lockedBuffer) {
	t.Helper()
	if rec.dir == "" {
		rec.dir = t.TempDir()
	}
	if rec.max == 0 {
		rec.max = 64 << 20
	}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logs), nil))
	rec.log = logger
	return newTestGateway(t, gatewayOptions{Logger: logger, Recorder: &rec}), logs
}

// recordedFile waits for the session's end in the log and returns the
// recording that its log line names, after checking its name and mode.
func recordedFile(t *testing.T, logs *lockedBuffer, dir string) string {
	t.Helper()
	var m []string
	re := regexp.MustCompile(`msg="session ended" session=(\S+) .* recording=(\S+)`)
	waitFor(t, "the session's end in the log", func() bool {
		m = re.FindStringSubmatch(strings.Join(logs.lines(), "\n"))
		return m != nil
	})
	path := m[2]
	if filepath.Dir(path) != dir {
		t.Errorf("recording %s is not in %s", path, dir)
	}
	if !regexp.MustCompile(`^\d{8}T\d{6}Z-` + regexp.QuoteMeta(m[1]) + `\.cast$`).MatchString(filepath.Base(path)) {
		t.Errorf("recording %s is not named 20261128T174501Z-<session %s>.cast", filepath.Base(path), m[1])
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("recording mode %v, want 0600", fi.Mode().Perm())
	}
	return path
}

// castEvents reads a recording: its header and its events.
func castEvents(t *testing.T, path string) (header map[string]any, events [][3]any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if header == nil {
			if err := json.Unmarshal(sc.Bytes(), &header); err != nil {
				t.Fatalf("header %q: %v", sc.Text(), err)
			}
			continue
		}
		var ev [3]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("event %q: %v", sc.Text(), err)
		}
		events = append(events, ev)
	}
	return header, events
}

// eventsOf joins the text of the events of one code ("o", "i", "r").
func eventsOf(events [][3]any, code string) []string {
	var out []string
	for _, ev := range events {
		if ev[1] == code {
			out = append(out, ev[2].(string))
		}
	}
	return out
}

// asciinemaCat is what `asciinema cat` prints for a recording, with the
// terminal's CR LF made LF. asciinema wants a terminal: script gives it one.
func asciinemaCat(t *testing.T, path string) string {
	t.Helper()
	if _, err := exec.LookPath("asciinema"); err != nil {
		const hint = "asciinema not found; install it with: apt-get install asciinema"
		if os.Getenv("CI") != "" {
			t.Fatal(hint)
		}
		t.Skip(hint)
	}
	cmd := exec.Command("script", "-qec", "asciinema cat "+path, "/dev/null")
	cmd.Env = append(os.Environ(), "TERM=xterm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("asciinema cat %s: %v\n%s", path, err, out)
	}
	return strings.ReplaceAll(string(out), "\r\n", "\n")
}

// TestRecordV1: a line session's output, as the browser got it (telnet
// commands removed), in a file asciinema plays; input is not recorded.
func TestRecordV1(t *testing.T) {
	dir := t.TempDir()
	tg, logs := recordingGateway(t, recorder{dir: dir})
	addr := startTarget(t, func(c net.Conn) {
		// IAC WILL ECHO, which the gateway answers and removes.
		c.Write([]byte("\xff\xfb\x01login: "))
		line, _ := bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, "hello "+strings.TrimSpace(line)+"\r\nbye\r\n")
	})
	ws := tg.connect(t, addr)
	ws.expectText("login: ")
	ws.sendText("secret-password")
	ws.expectText("hello secret-password")
	ws.expectText("bye")
	ws.expectClose(1000)

	path := recordedFile(t, logs, dir)
	header, events := castEvents(t, path)
	if header["version"] != 2.0 || header["width"] != 80.0 || header["height"] != 24.0 || header["title"] != addr {
		t.Errorf("header %v", header)
	}
	if ts, _ := header["timestamp"].(float64); time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("header timestamp %v", header["timestamp"])
	}
	if got := strings.Join(eventsOf(events, "o"), ""); got != "login: hello secret-password\r\nbye\r\n" {
		t.Errorf("output events %q", got)
	}
	if in := eventsOf(events, "i"); in != nil {
		t.Errorf("input recorded without -record-input: %q", in)
	}
	if got := asciinemaCat(t, path); !strings.Contains(got, "login: hello secret-password\nbye\n") {
		t.Errorf("asciinema cat printed %q", got)
	}
}

// TestRecordV2: a terminal session with its size, a resize and the
// target's bytes; with -record-input, what was typed too.
func TestRecordV2(t *testing.T) {
	dir := t.TempDir()
	tg, logs := recordingGateway(t, recorder{dir: dir, input: true})
	addr := startTarget(t, func(c net.Conn) {
		io.WriteString(c, "\x1b[1mready\x1b[0m\r\n$ ")
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		io.WriteString(c, "you typed "+strings.TrimSpace(string(buf[:n]))+"\r\n")
	})
	ws, _ := tg.dialWS(t, "/ws?cols=100&rows=30&term=vt100", http.Header{"Sec-WebSocket-Protocol": {subprotocolV2}})
	ws.sendText(addr)
	ws.expectText("SUCC")
	var got strings.Builder
	for !strings.HasSuffix(got.String(), "$ ") {
		if op, p := ws.next(); op == opBinary {
			got.Write(p)
		}
	}
	ws.sendText(`{"type":"resize","cols":120,"rows":40}`)
	if err := ws.writeFrame(opBinary, []byte("ls\r")); err != nil {
		t.Fatal(err)
	}
	for {
		op, p := ws.next()
		if op == opClose {
			ws.writeFrame(opClose, p[:2])
			break
		}
	}

	path := recordedFile(t, logs, dir)
	header, events := castEvents(t, path)
	if header["width"] != 100.0 || header["height"] != 30.0 || header["env"].(map[string]any)["TERM"] != "vt100" {
		t.Errorf("header %v, want 100x30 and TERM vt100", header)
	}
	if r := eventsOf(events, "r"); len(r) != 1 || r[0] != "120x40" {
		t.Errorf("resize events %q, want 120x40", r)
	}
	if in := strings.Join(eventsOf(events, "i"), ""); in != "ls\r" {
		t.Errorf("input events %q, want ls\\r", in)
	}
	// The resize comes after the prompt and before the answer.
	var order []string
	for _, ev := range events {
		order = append(order, ev[1].(string))
	}
	if seq := strings.Join(order, ""); !regexp.MustCompile(`^o+ri+o+$`).MatchString(seq) {
		t.Errorf("events in the order %s, want output, the resize, input, output", seq)
	}
	cat := asciinemaCat(t, path)
	if !strings.Contains(cat, "ready") || !strings.Contains(cat, "you typed ls") {
		t.Errorf("asciinema cat printed %q", cat)
	}
}

// TestRecordNonUTF8: bytes that are not UTF-8 become U+FFFD, and a
// character cut between two reads is recorded whole.
func TestRecordNonUTF8(t *testing.T) {
	dir := t.TempDir()
	tg, logs := recordingGateway(t, recorder{dir: dir})
	addr := startTarget(t, func(c net.Conn) {
		io.WriteString(c, "latin-1 caf\xe9, cp437 \xc9\xcd\xcd, cut \xe2\x82")
		bufio.NewReader(c).ReadString('\n') // two reads for the gateway, for sure
		io.WriteString(c, "\xac!\r\n")
	})
	ws, _ := tg.dialWS(t, "/ws", http.Header{"Sec-WebSocket-Protocol": {subprotocolV2}})
	ws.sendText(addr)
	ws.expectText("SUCC")
	if op, p := ws.next(); op != opBinary || !strings.HasSuffix(string(p), "cut \xe2\x82") {
		t.Fatalf("got op %d %q", op, p)
	}
	ws.writeFrame(opBinary, []byte("\r\n"))
	for {
		if op, p := ws.next(); op == opClose {
			ws.writeFrame(opClose, p[:2])
			break
		}
	}

	path := recordedFile(t, logs, dir)
	_, events := castEvents(t, path)
	out := eventsOf(events, "o")
	want := "latin-1 caf\uFFFD, cp437 \uFFFD\uFFFD\uFFFD, cut €!\r\n"
	if strings.Join(out, "") != want || len(out) != 2 || !strings.HasSuffix(out[1], "€!\r\n") {
		t.Errorf("output events %q, want %q with the euro sign whole in the second", out, want)
	}
	if cat := asciinemaCat(t, path); !strings.Contains(cat, strings.TrimSuffix(want, "\r\n")) {
		t.Errorf("asciinema cat printed %q, want %q", cat, want)
	}
}

// TestRecordLimit: past -record-max the recording stops with a marker and
// the session goes on.
func TestRecordLimit(t *testing.T) {
	dir := t.TempDir()
	const max = 4096
	tg, logs := recordingGateway(t, recorder{dir: dir, max: max})
	echo := startTestEcho(t)
	ws := tg.connect(t, echo.Addr())
	ws.expectText(strings.TrimRight(echoGreeting, "\r\n"))
	line := strings.Repeat("0123456789", 20)
	for i := range 40 { // 8 KB of echoes, twice the limit
		ws.sendText(line)
		ws.expectText(line)
		if i == 39 && !strings.Contains(strings.Join(logs.lines(), "\n"), "recording stopped at -record-max") {
			t.Error("no log line says the recording stopped")
		}
	}
	ws.sendClose()
	ws.expectClose(1000)
	path := recordedFile(t, logs, dir)
	fi, _ := os.Stat(path)
	if fi.Size() > max {
		t.Errorf("recording of %d bytes, over -record-max %d", fi.Size(), max)
	}
	_, events := castEvents(t, path)
	if last := events[len(events)-1]; last[1] != "m" || !strings.Contains(last[2].(string), "recording stopped") {
		t.Errorf("last event %v, want the marker", last)
	}
	asciinemaCat(t, path) // still a valid recording
}

// TestRecordFailures: a directory that cannot be written and a file that
// fails mid-session are logged, and the session goes on.
func TestRecordFailures(t *testing.T) {
	dir := t.TempDir()
	tg, logs := recordingGateway(t, recorder{dir: dir})
	echo := startTestEcho(t)
	// The directory is gone (root may write anywhere, so not a chmod).
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ws := tg.connect(t, echo.Addr())
	ws.expectText(strings.TrimRight(echoGreeting, "\r\n"))
	ws.sendText("works anyway")
	ws.expectText("works anyway")
	ws.sendClose()
	ws.expectClose(1000)
	waitFor(t, "the session's end", func() bool { return tg.gw.Sessions() == 0 })
	log := strings.Join(logs.lines(), "\n")
	if !strings.Contains(log, "cannot record the session") {
		t.Error("the failure to record is not logged")
	}
	if strings.Contains(log, "recording=") {
		t.Error("the session's end names a recording that does not exist")
	}

	// A write that fails, as on a full disk: a pipe whose reader is gone.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var buf lockedBuffer
	rec, err := newRecording(w, asciicast.Header{Width: 80, Height: 24, Timestamp: time.Now()}, 1<<20, false, slog.New(slog.NewTextHandler(&buf, nil)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	rec.lastFlush = time.Time{} // write through at once
	rec.output([]byte("lost"))
	rec.output([]byte("dropped"))
	if rec.close() == "" {
		t.Error("close does not name the file")
	}
	if n := strings.Count(buf.buf.String(), "recording failed"); n != 1 {
		t.Errorf("%d log lines about the failure, want 1: %s", n, buf.buf.String())
	}
}

// TestRecordDirChecked: -record names a directory the gateway can write
// to, or it does not start.
func TestRecordDirChecked(t *testing.T) {
	err := run(t.Context(), []string{"-listen", "127.0.0.1:0", "-record", filepath.Join(t.TempDir(), "missing")}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-record") {
		t.Errorf("run with a missing -record directory: %v", err)
	}
}

// TestRecordWebsockify: a /websockify session is recorded and counted like
// the others: its output in the recording, its bytes and its protocol in
// the metrics.
func TestRecordWebsockify(t *testing.T) {
	dir := t.TempDir()
	target := startTarget(t, func(c net.Conn) { c.Write([]byte("hello from the board\r\n")) })
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logs), nil))
	m := newMetrics()
	tg := newTestGateway(t, gatewayOptions{Logger: logger, Metrics: m,
		Recorder: &recorder{dir: dir, max: 64 << 20, log: logger, metrics: m},
		Targets:  staticTargets(t, "board: "+target+"\n")})
	ws, resp := tg.dialWS(t, "/websockify?token=board", http.Header{"Origin": {tg.origin()}, "Sec-WebSocket-Protocol": {"binary"}})
	if ws == nil {
		t.Fatal(resp.Status)
	}
	if op, p := ws.next(); op != opBinary || string(p) != "hello from the board\r\n" {
		t.Fatalf("got op %d %q", op, p)
	}
	ws.expectClose(1000)
	_, events := castEvents(t, recordedFile(t, logs, dir))
	var out string
	for _, e := range events {
		if e[1] == "o" {
			out += e[2].(string)
		}
	}
	if out != "hello from the board\r\n" {
		t.Errorf("recorded output %q", out)
	}
	exposition := httptest.NewRecorder()
	m.handler().ServeHTTP(exposition, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`wstelnet_relayed_bytes_total{direction="to_client"} 22`,
		`wstelnet_sessions_started_total{protocol="websockify"} 1`,
	} {
		if !strings.Contains(exposition.Body.String(), want) {
			t.Errorf("the metrics do not say %s", want)
		}
	}
}
