package wsframe

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"syscall"
	"time"

	"golang.org/x/net/websocket"
)

// Options are a server connection's limits.
type Options struct {
	// MaxMessage bounds a message from the client, fragments included;
	// a larger one fails the connection with 1009. 0: no limit.
	MaxMessage int
	// WriteTimeout bounds every write to the client. 0: none.
	WriteTimeout time.Duration
}

// Conn is the server side of a WebSocket connection after the handshake.
// One goroutine reads (ReadMessage); any number may write through Writer.
type Conn struct {
	nc       net.Conn
	protocol string
	r        *Reader
	w        *Writer
	q        *quietReader  // nc as r reads it
	arm      func()        // q.arm, bound once
	early    *bytes.Reader // what came with the request, read first; nil if nothing did
}

// ErrHandshake is returned by Upgrade when the request was not a valid
// WebSocket handshake; the library has answered it (400) and closed it.
var ErrHandshake = errors.New("websocket handshake failed")

// Upgrade answers r's opening handshake with golang.org/x/net/websocket
// and returns the connection for frames. The subprotocol is the first of
// protocols (the server's, in its order of preference) that the client
// offers, or none. The caller has checked the Origin: the library's
// default handshake would accept any.
func Upgrade(w http.ResponseWriter, r *http.Request, protocols []string, opts Options) (*Conn, error) {
	l := &lease{ResponseWriter: w}
	var c *Conn
	handshake := func(cfg *websocket.Config, r *http.Request) error {
		// The library keeps cfg.Origin nil under a custom handshake, and
		// its Conn.RemoteAddr would then panic.
		if cfg.Origin, _ = websocket.Origin(cfg, r); cfg.Origin == nil {
			cfg.Origin = &url.URL{}
		}
		// It adds every protocol the client offers to cfg.Protocol, and
		// accepts the handshake only with exactly one left, or none.
		offered := cfg.Protocol
		cfg.Protocol = nil
		for _, p := range protocols {
			if slices.Contains(offered, p) {
				cfg.Protocol = []string{p}
				break
			}
		}
		return nil
	}
	srv := websocket.Server{Handshake: handshake, Handler: func(ws *websocket.Conn) {
		c = newConn(l.conn, l.early, opts)
		if p := ws.Config().Protocol; len(p) == 1 {
			c.protocol = p[0]
		}
		l.taken = true
	}}
	srv.ServeHTTP(l, r)
	if c == nil {
		return nil, ErrHandshake
	}
	return c, nil
}

// lease lends the hijacked connection to the library for the handshake.
// The library writes its answer through it and closes it when its handler
// returns; that Close ends the lease, and closes the connection only if
// no Conn took it over (a failed handshake). The library never reads from
// the connection after the request, which net/http has parsed.
type lease struct {
	http.ResponseWriter
	conn  net.Conn
	early []byte // frames that arrived with the request, before our 101
	taken bool
}

func (l *lease) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(l.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	l.conn = c
	if n := rw.Reader.Buffered(); n > 0 { // a client that did not wait for the 101
		early, _ := rw.Reader.Peek(n)
		l.early = bytes.Clone(early)
	}
	// Small buffers of its own instead of net/http's 4 KiB ones: the
	// library only writes its answer through them.
	return leased{l}, bufio.NewReadWriter(bufio.NewReaderSize(eofReader{}, 16), bufio.NewWriterSize(c, 256)), nil
}

// leased is the connection as the library holds it.
type leased struct{ l *lease }

func (c leased) Read([]byte) (int, error)           { return 0, io.EOF }
func (c leased) Write(p []byte) (int, error)        { return c.l.conn.Write(p) }
func (c leased) LocalAddr() net.Addr                { return c.l.conn.LocalAddr() }
func (c leased) RemoteAddr() net.Addr               { return c.l.conn.RemoteAddr() }
func (c leased) SetDeadline(t time.Time) error      { return c.l.conn.SetDeadline(t) }
func (c leased) SetReadDeadline(t time.Time) error  { return c.l.conn.SetReadDeadline(t) }
func (c leased) SetWriteDeadline(t time.Time) error { return c.l.conn.SetWriteDeadline(t) }
func (c leased) Close() error {
	if c.l.taken {
		return nil
	}
	return c.l.conn.Close()
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// headerBuf is the reader's buffer: big enough for a frame header and small
// messages (keystrokes, control messages) in one read; a larger payload is
// read straight into the message around it.
const headerBuf = 512

func newConn(nc net.Conn, early []byte, opts Options) *Conn {
	c := &Conn{nc: nc, q: newQuietReader(nc)}
	c.arm = c.q.arm
	var src io.Reader = c.q
	if len(early) > 0 {
		c.early = bytes.NewReader(early)
		src = io.MultiReader(c.early, c.q)
	}
	c.w = NewWriter(nc, opts.WriteTimeout, false)
	c.r = NewReader(bufio.NewReaderSize(src, headerBuf), true, c.w)
	c.r.SetMaxMessage(opts.MaxMessage)
	return c
}

// Protocol is the subprotocol agreed in the handshake, "" if none.
func (c *Conn) Protocol() string { return c.protocol }

// Reader is the connection's reader; Writer its writer.
func (c *Conn) Reader() *Reader { return c.r }
func (c *Conn) Writer() *Writer { return c.w }

// ReadMessage reads the next data message (see Reader.ReadMessage).
func (c *Conn) ReadMessage() (Message, error) { return c.r.ReadMessage() }

// TryReadMessage is ReadMessage that does not wait for a message to
// begin: with nothing buffered and the socket empty it returns ErrQuiet at
// once, having consumed nothing, so that the caller can wait for the
// socket some other way (RawConn) and try again. Pings and pongs before
// the message are answered and noted as ReadMessage does. Once a message
// has begun, it waits for the rest. Without a socket to read from raw
// (TLS, another system) it is ReadMessage.
func (c *Conn) TryReadMessage() (Message, error) {
	if c.q.rc == nil || (c.early != nil && c.early.Len() > 0) {
		return c.r.ReadMessage()
	}
	m, err := c.r.readMessage(c.arm)
	c.q.armed = false // if nothing was read after all
	return m, err
}

// RawConn is the socket, for waiting until it is readable; nil if the
// connection has none (TLS).
func (c *Conn) RawConn() syscall.RawConn { return c.q.rc }

// SetReadDeadline sets the deadline of reads; a blocked read returns at once
// if it is in the past.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// WriteClose sends a close frame once (see Writer.WriteClose).
func (c *Conn) WriteClose(code int, reason string) error { return c.w.WriteClose(code, reason) }

// Close closes the connection at once.
func (c *Conn) Close() error { return c.nc.Close() }

// Linger waits up to grace for the peer's answer to our close frame,
// reading and dropping its messages, and then closes the connection.
// Closing with the peer's frames unread would make the kernel reset the
// connection, and a reset can destroy what we sent last. After a protocol
// error the rest is not frames: our side of the connection is shut (the
// peer reads its end after our close frame, and closes too), and what
// comes is dropped until the peer closes. Call it only when no other
// goroutine reads.
func (c *Conn) Linger(grace time.Duration) {
	c.nc.SetReadDeadline(time.Now().Add(grace))
	for {
		_, err := c.r.ReadMessage()
		if pe := (*ProtocolError)(nil); errors.As(err, &pe) {
			if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
			io.Copy(io.Discard, c.r.br)
		}
		if err != nil {
			break
		}
	}
	c.nc.Close()
}
