"""A websockify client, for websockify_test.go: websockify's own
WebSocket class (Debian's python3-websockify) connects to the gateway's
/websockify endpoint, sends bytes, reads until it has seen the expected
bytes or the connection closes, and prints what happened as JSON.

usage: websockify_client.py URL ORIGIN PROTOCOLS SEND EXPECT
  ORIGIN and PROTOCOLS (comma-separated) may be empty; SEND and EXPECT are text.
"""
import base64
import json
import random
import sys
import warnings
from urllib.parse import urlparse

warnings.simplefilter("ignore")  # "no numpy": slower, and no matter here
import websockify.websocket  # noqa: E402
from websockify.websocket import WebSocket, WebSocketWantReadError  # noqa: E402

# websockify 0.10.0's client sends only the URL's path in its request line,
# dropping the query that carries the token, which browser clients made for
# websockify (noVNC, fTelnet) do send. Its connect() takes the path from
# urlparse: this gives it the path with the query, and changes nothing else.
websockify.websocket.urlparse = lambda u: urlparse(u)._replace(
    path=urlparse(u).path + ("?" + urlparse(u).query if urlparse(u).query else ""))



class Client(WebSocket):
    """websockify's WebSocket with one fix: 0.10.0 (Debian's) builds a
    client's mask as b'' + int, a TypeError on Python 3, so it cannot send
    a single frame as a client. This is its _sendmsg with the mask built as
    bytes, as later websockify releases do; the handshake, the framing and
    everything else are websockify's own."""

    def _sendmsg(self, opcode, msg):
        if self.client:
            mask = bytes(random.randrange(256) for _ in range(4))
            frame = self._encode_hybi(opcode, msg, mask)
        else:
            frame = self._encode_hybi(opcode, msg)
        return self._send(frame)


url, origin, protocols, send, expect = sys.argv[1:6]
ws = Client()
ws.connect(url, origin=origin or None, protocols=[p for p in protocols.split(",") if p])
ws.settimeout(10)
# websockify 0.10.0's client keeps frames that arrived in one read with the
# handshake's response in its buffer, and reads the socket again before it
# looks at them: a close frame sent at once (an unknown token) would wait
# for bytes that never come. Browsers see such frames at once; queue them
# as its _recv_frames does after a read.
while True:
    frame = ws._decode_hybi(ws._recv_buffer)
    if frame is None:
        break
    ws._recv_buffer = ws._recv_buffer[frame["length"]:]
    ws._recv_queue.append(frame)
if send:
    ws.sendmsg(send.encode())
data = b""
closed = False
while expect.encode() not in data or not expect:
    try:
        msg = ws.recvmsg()
    except WebSocketWantReadError:
        continue
    if msg is None:
        closed = True
        break
    data += msg
if not closed:
    ws.shutdown(0, 1000)
    while True:  # the gateway's answer to our close
        try:
            if ws.recvmsg() is None:
                break
        except WebSocketWantReadError:
            continue
print(json.dumps({
    "protocol": ws.protocol,
    "data": base64.b64encode(data).decode(),
    "closed_by_gateway": closed,
    "close_code": ws.close_code,
    "close_reason": ws.close_reason if isinstance(ws.close_reason, str) else (ws.close_reason or b"").decode("utf-8", "replace"),
}))
