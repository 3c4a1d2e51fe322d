// wstelnet page: opens a WebSocket to the gateway, names the target with
// "host:port", waits for SUCC or FAIL:<reason>, then exchanges lines.
'use strict';

(() => {
  const MAX_LINES = 5000;   // scrollback kept in the console
  const MAX_HISTORY = 100;  // commands remembered for ArrowUp/ArrowDown
  const LINES_PER_FRAME = 500;
  // A prompt like "Password:" makes the next line secret: not shown, not remembered.
  const SECRET_PROMPT = /\b(password|passphrase|passwd|pin)\b[^:]{0,20}:\s*$/i;

  const $ = (id) => document.getElementById(id);
  const hostInput = $('host');
  const portInput = $('port');
  const connectButton = $('connect-button');
  const statusLine = $('status');
  const output = $('console');
  const command = $('command');
  const sendButton = $('send-button');

  let ws = null;          // the current socket; events from older ones are ignored
  let state = 'idle';     // idle | connecting | open
  let target = '';        // "host:port" of the current session
  let secret = false;     // the target just asked for a password

  // ---- status and state ----------------------------------------------------

  function setStatus(text, tone = 'info') {
    statusLine.textContent = text;
    statusLine.dataset.tone = tone;
  }

  function setState(next) {
    state = next;
    document.body.dataset.state = next; // CSS styles the status dot from this
    connectButton.textContent = { idle: 'Connect', connecting: 'Cancel', open: 'Disconnect' }[next];
    // readOnly rather than disabled: the field keeps focus if Enter was pressed in it.
    hostInput.readOnly = portInput.readOnly = next !== 'idle';
    command.disabled = sendButton.disabled = next !== 'open';
    secret = false;
    updateCommandBox();
  }

  function setSecret(on) {
    if (secret === on) return;
    secret = on;
    updateCommandBox();
  }

  function updateCommandBox() {
    command.type = secret ? 'password' : 'text';
    command.placeholder = state !== 'open' ? 'Connect first, then type lines here'
      : secret ? 'Password (not shown or remembered)' : 'Type a line and press Enter';
  }

  // ---- console ---------------------------------------------------------------
  // Lines are queued and drawn once per animation frame, so a flood costs one
  // DOM update per frame instead of one per line. The queue keeps at most
  // MAX_LINES (roughly): older lines would be trimmed from the scrollback anyway.

  let queue = [];
  let drawScheduled = false;
  let stickToBottom = true; // false while the user has scrolled up to read

  function addLine(text, kind) {
    queue.push({ text, kind });
    // Drop the oldest in bulk now and then rather than shifting on every push.
    if (queue.length >= 2 * MAX_LINES) queue = queue.slice(-MAX_LINES);
    scheduleDraw();
  }

  function scheduleDraw() {
    if (!drawScheduled) {
      drawScheduled = true;
      requestAnimationFrame(draw);
    }
  }

  function draw() {
    drawScheduled = false;
    if (queue.length > MAX_LINES) queue = queue.slice(-MAX_LINES);
    // A few hundred lines per frame keeps each frame short while a flood lasts;
    // the rest waits for the next frame.
    const lines = queue.splice(0, LINES_PER_FRAME);
    if (queue.length > 0) scheduleDraw();
    const fragment = document.createDocumentFragment();
    for (const { text, kind } of lines) {
      const div = document.createElement('div');
      div.className = 'line ' + kind;
      div.textContent = text; // never innerHTML: the target's text is not markup
      fragment.append(div);
    }
    output.append(fragment);
    const excess = output.childElementCount - MAX_LINES;
    if (excess > 0) {
      // One range deletion is much cheaper than thousands of remove() calls.
      const range = document.createRange();
      range.setStartBefore(output.firstChild);
      range.setEndBefore(output.children[excess]);
      range.deleteContents();
    }
    if (stickToBottom) output.scrollTop = output.scrollHeight;
  }

  output.addEventListener('scroll', () => {
    // A few pixels of slack: zoom levels make scrollTop fractional.
    stickToBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 8;
  }, { passive: true });

  // ---- connection ------------------------------------------------------------

  // The endpoint sits next to the page, so the gateway also works under a prefix.
  function socketURL() {
    const url = new URL('ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = url.hash = '';
    return url.href;
  }

  function connect() {
    const host = hostInput.value.trim().replace(/^\[(.*)\]$/, '$1');
    const port = portInput.value.trim() || '80'; // the tutorial's default
    if (!host) {
      setStatus('Enter the host to connect to.', 'error');
      hostInput.focus();
      return;
    }
    if (!/^\d{1,5}$/.test(port) || +port < 1 || +port > 65535) {
      setStatus('The port must be a number from 1 to 65535.', 'error');
      portInput.focus();
      return;
    }
    target = (host.includes(':') ? `[${host}]` : host) + ':' + port; // IPv6 needs brackets

    // A fresh socket each time; the handlers check that theirs is still the
    // current one, so a late event from an old session changes nothing.
    const socket = new WebSocket(socketURL());
    let opened = false;
    ws = socket;
    setState('connecting');
    setStatus(`Connecting to ${target}…`);
    socket.addEventListener('open', () => {
      opened = true;
      if (socket === ws) socket.send(target);
    });
    socket.addEventListener('message', (event) => {
      if (socket === ws) onMessage(event.data);
    });
    socket.addEventListener('close', (event) => {
      if (socket === ws) onClose(event, opened);
    });
    // 'error' is always followed by 'close', which says what happened.
  }

  function onMessage(data) {
    if (typeof data !== 'string') return; // the protocol has text messages only
    if (state === 'open') {
      addLine(data, 'out');
      // Cheap test first: a prompt is short.
      setSecret(data.length < 200 && SECRET_PROMPT.test(data));
      return;
    }
    if (data === 'SUCC') {
      setState('open');
      setStatus(`Connected to ${target}.`, 'ok');
      addLine(`Connected to ${target}.`, 'sys');
      command.focus();
    } else if (data.startsWith('FAIL:')) {
      // The gateway closes the socket next; the form is usable again at once.
      drop();
      setState('idle');
      setStatus(`Could not connect: ${data.slice(5)}`, 'error');
      addLine(`Could not connect: ${data.slice(5)}`, 'sys error');
    } else {
      drop();
      setState('idle');
      setStatus('The gateway gave an unexpected answer; is this a wstelnet gateway?', 'error');
    }
  }

  function onClose(event, opened) {
    const wasOpen = state === 'open';
    ws = null;
    setState('idle');
    let text;
    if (event.code === 1006) {
      text = opened ? 'Connection to the gateway lost.' : 'Could not reach the gateway.';
    } else if (event.reason) {
      text = `Disconnected: ${event.reason.replace(/\.$/, '')}.`;
    } else if (event.code === 1000 || event.code === 1005) {
      text = 'Disconnected.';
    } else {
      text = `Disconnected (WebSocket close code ${event.code}).`;
    }
    setStatus(text, event.code === 1000 ? 'info' : 'error');
    if (wasOpen || opened) addLine(text, event.code === 1000 ? 'sys' : 'sys error');
  }

  // drop ends the session from our side.
  function drop() {
    const socket = ws;
    ws = null;
    if (!socket) return;
    if (socket.readyState === WebSocket.CONNECTING) {
      // Closing a socket that is still connecting makes the browser log an
      // error; close it as soon as it opens instead.
      socket.addEventListener('open', () => socket.close(1000));
    } else {
      socket.close(1000);
    }
  }

  function disconnect() {
    const wasOpen = state === 'open';
    drop();
    setState('idle');
    setStatus(wasOpen ? 'Disconnected.' : 'Connection cancelled.');
    if (wasOpen) addLine('Disconnected.', 'sys');
  }

  $('target-form').addEventListener('submit', (event) => {
    event.preventDefault(); // the page never navigates; the CSP forbids form actions too
    if (state === 'idle') connect();
    else disconnect();
  });

  // ---- command line and history ------------------------------------------------

  const commands = [];
  let historyPos = 0;  // commands.length means "the line being typed"
  let draft = '';      // what was typed before walking the history

  $('command-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (state !== 'open' || !ws) return;
    const line = command.value;
    ws.send(line); // an empty line is fine: it sends a bare CR LF
    if (secret) {
      addLine('(password sent)', 'in secret');
    } else {
      addLine(line, 'in');
      if (line !== '' && commands.at(-1) !== line) {
        commands.push(line);
        if (commands.length > MAX_HISTORY) commands.shift();
      }
    }
    historyPos = commands.length;
    draft = '';
    command.value = '';
    setSecret(false);
    stickToBottom = true; // after sending you want to see the answer
  });

  command.addEventListener('keydown', (event) => {
    if (secret || event.isComposing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === 'ArrowUp' && historyPos > 0) {
      if (historyPos === commands.length) draft = command.value;
      historyPos--;
    } else if (event.key === 'ArrowDown' && historyPos < commands.length) {
      historyPos++;
    } else {
      return;
    }
    event.preventDefault(); // keep the caret from jumping to the start
    command.value = historyPos === commands.length ? draft : commands[historyPos];
    command.setSelectionRange(command.value.length, command.value.length);
  });

  setState('idle');
})();
