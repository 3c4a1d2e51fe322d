package session

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"wstelnet/internal/wsframe"
)

// browser is the browser's side of a session as the relay sees it: where
// messages come from and output goes. direct is one WebSocket; resumable
// (resume.go) outlives its WebSockets, and the relay never knows a
// connection was lost and another took its place.
type browser interface {
	// read returns the browser's next message, valid until the next read;
	// with nowait, wsframe.ErrQuiet at once if none has begun (the socket
	// is empty), for the Poller to wait instead.
	read(nowait bool) (wsframe.Message, error)
	// rawConn is the attached socket, for the Poller; nil if none.
	rawConn() syscall.RawConn
	// fill reads the target's next output into this side's memory.
	fill(tr *targetReader) ([]byte, error)
	// output sends data, p being what fill returned or its beginning (a
	// codec may shorten it in place), in order with text; release gives
	// back what fill lent, whether or not it was sent.
	output(p []byte) error
	release()
	// text sends a control message in order with the output.
	text(p []byte) error
	// mark sends, as text does, a control message that marks the output
	// so far: a prompt's end (EOR, GA). A resume whose backlog ends at
	// the mark sends it again after the backlog.
	mark(p []byte) error
	// reply answers the browser (an error, a pong) at once, in whatever
	// order with output.
	reply(p []byte) error
	// frames sends the frames that add is given in one write (v1's lines).
	frames(func(add func(op byte, p []byte) error) error) error
	// end ends the session on the browser's side: for an end the gateway
	// decides, the last output is followed by closed (if not nil) and the
	// close frame, and the reading goes on until the answer or closeGrace;
	// otherwise reading stops at once.
	end(e End, closed []byte)
	// ping pings the browser; false with the end when the session must
	// stop because the browser is gone.
	ping(now time.Time, bound time.Duration) (End, bool)
	// acked takes the browser's acknowledgement of output; false if
	// this side has no use for one (not resumable).
	acked(offset int64) bool
	// stopped wakes whatever waits on this side: the session was stopped.
	stopped()
	// finish lets go of the browser's connection when the session is over.
	finish()
}

// direct is the browser's side of a session that lives and dies with its
// one WebSocket.
type direct struct {
	ws     *wsframe.Conn
	bp     *[]byte // the pooled buffer fill lent, until release
	closed End     // the end sent, for finish
}

func (d *direct) read(nowait bool) (wsframe.Message, error) { return readWS(d.ws, nowait) }

// readWS reads ws's next message; with nowait, it returns
// wsframe.ErrQuiet at once if none has begun.
func readWS(ws *wsframe.Conn, nowait bool) (wsframe.Message, error) {
	if nowait {
		return ws.TryReadMessage()
	}
	return ws.ReadMessage()
}

func (d *direct) rawConn() syscall.RawConn { return d.ws.RawConn() }

func (d *direct) fill(tr *targetReader) ([]byte, error) { return tr.next(d) }

// lend and unused make direct a storage: pooled buffers.
func (d *direct) lend() []byte {
	d.bp = readBufs.Get().(*[]byte)
	return *d.bp
}

func (d *direct) unused() { d.release() }

func (d *direct) release() {
	if d.bp != nil {
		readBufs.Put(d.bp)
		d.bp = nil
	}
}

func (d *direct) output(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	return d.ws.Writer().WriteFrame(wsframe.OpBinary, p)
}

func (d *direct) text(p []byte) error  { return d.ws.Writer().WriteFrame(wsframe.OpText, p) }
func (d *direct) reply(p []byte) error { return d.text(p) }
func (d *direct) mark(p []byte) error  { return d.text(p) }

func (d *direct) frames(emit func(add func(op byte, p []byte) error) error) error {
	return batch(d.ws.Writer(), emit)
}

// batch runs emit, which adds frames to the writer's batch, and writes
// them all with one system call.
func batch(w *wsframe.Writer, emit func(add func(op byte, p []byte) error) error) error {
	w.Begin()
	err := emit(w.Add)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

func (d *direct) end(e End, closed []byte) {
	d.closed = e
	if !e.GatewayCloses() {
		// The browser's side ended: if it was a write that failed, the
		// reading must stop too.
		d.ws.SetReadDeadline(aLongTimeAgo)
		return
	}
	if closed != nil {
		d.ws.Writer().WriteFrame(wsframe.OpText, closed)
	}
	// The browser may still be sending; it answers our close frame with
	// its own, which ends the reading, or the grace period does.
	d.ws.WriteClose(e.Code(), e.Reason())
	d.ws.SetReadDeadline(time.Now().Add(closeGrace))
}

// ping sends a ping; one that cannot be written within -write-timeout
// means the browser is gone (or not reading): the session ends, even if
// both directions are blocked elsewhere (an upload to a target that does
// not read).
func (d *direct) ping(time.Time, time.Duration) (End, bool) {
	err := d.ws.Writer().WriteFrame(wsframe.OpPing, nil)
	if err != nil && !errors.Is(err, wsframe.ErrCloseSent) {
		return withErr(ClientLost, fmt.Errorf("ping: %w", err)), false
	}
	return End{}, true
}

func (d *direct) acked(int64) bool { return false }
func (d *direct) stopped()         {}

func (d *direct) finish() {
	d.ws.WriteClose(d.closed.Code(), d.closed.Reason()) // nothing if one went out
	d.ws.Linger(closeGrace)
}
