// Line mode's console: the target's text as lines of coloured spans.
//
// The text goes through the ANSI parser of ansi.js (colours become spans,
// other escape sequences disappear, CR and BS edit the line).
//
// Drawing is batched: finished lines are queued and drawn once per animation
// frame, at most LINES_PER_FRAME at a time, and the console keeps the last
// MAX_LINES. The line still being received (a prompt, a progress bar) is
// drawn in place at the end and completed by what follows.

import { AnsiParser, DEFAULT } from './ansi.js';

const MAX_LINES = 5000;        // scrollback kept in the console
const LINES_PER_FRAME = 500;   // keeps each frame short during a flood

export class LineView {
  constructor(el) {
    this.el = el;
    this.queue = [];      // finished lines not yet drawn: {kind, text} or {kind, runs, el?}
    this.parser = new AnsiParser((runs, prompt) => this.finished(runs, prompt));
    this.lineEl = null;   // the element showing the parser's current line, once drawn
    this.lineDirty = false;
    this.scheduled = false;
    this.stick = true;    // false while the user has scrolled up to read
    el.addEventListener('scroll', () => {
      // A few pixels of slack: zoom levels make scrollTop fractional.
      this.stick = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
    }, { passive: true });
  }

  // reset forgets the parser's state, for a new session.
  reset() { this.parser.reset(); }

  // write takes the target's next piece of text.
  write(text) {
    this.parser.write(text);
    this.lineDirty = true;
    this.schedule();
  }

  // finished queues a line the parser has ended, with the element that
  // shows its start, if any.
  finished(runs, prompt) {
    this.queue.push({ kind: prompt ? 'out prompt' : 'out', runs, el: this.lineEl });
    this.lineEl = null;
    this.lineDirty = false;
    this.trimQueue();
  }

  // partial returns the line being received, if it is short (a prompt).
  partial(max) { return this.parser.partial(max); }

  // prompt shows the line being received as a prompt, at once: the game
  // marked it (EOR or GA), and it will not be followed by a line ending.
  prompt() {
    if (!this.parser.prompt()) return;
    this.lineDirty = true;
    this.schedule();
  }

  // add shows a line of our own: kind "sys" (the page's messages), "in"
  // (a sent line) or "in secret". The line being received ends first.
  add(text, kind) {
    if (!this.parser.line.empty) {
      this.parser.newline();
    } else if (this.lineEl) {
      this.lineEl.remove(); // emptied by backspaces
      this.lineEl = null;
    }
    this.queue.push({ kind, text });
    this.trimQueue();
    this.schedule();
  }

  // Lines that could never be shown are dropped in bulk, not one by one.
  trimQueue() {
    if (this.queue.length >= 2 * MAX_LINES) this.queue = this.queue.slice(-MAX_LINES);
  }

  schedule() {
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.draw());
    }
  }

  draw() {
    this.scheduled = false;
    if (this.queue.length > MAX_LINES) this.queue = this.queue.slice(-MAX_LINES);
    const batch = this.queue.splice(0, LINES_PER_FRAME);
    const fragment = document.createDocumentFragment();
    for (const entry of batch) {
      // A line whose start was drawn already is completed where it stands
      // (it is the console's last element: nothing is queued before it).
      if (entry.el && entry.el.isConnected) fill(entry.el, entry);
      else fragment.append(fill(document.createElement('div'), entry));
    }
    this.el.append(fragment);
    if (this.queue.length > 0) {
      this.schedule();
    } else if (this.lineDirty) {
      this.lineDirty = false;
      const { line } = this.parser;
      if (!line.empty || this.lineEl) {
        if (!this.lineEl) this.el.append(this.lineEl = document.createElement('div'));
        fill(this.lineEl, { kind: line.prompt ? 'out prompt' : 'out', runs: line.runs });
      }
    }
    const excess = this.el.childElementCount - MAX_LINES;
    if (excess > 0) {
      // One range deletion is much cheaper than thousands of remove() calls.
      const range = document.createRange();
      range.setStartBefore(this.el.firstChild);
      range.setEndBefore(this.el.children[excess]);
      range.deleteContents();
    }
    if (this.stick) this.el.scrollTop = this.el.scrollHeight;
  }

  // follow scrolls to the newest line and keeps following.
  follow() {
    this.stick = true;
    this.schedule();
  }

  // size is the console's size in characters, for the target's idea of the window.
  size() {
    const style = getComputedStyle(this.el);
    const ctx = (this.canvas ??= document.createElement('canvas')).getContext('2d');
    ctx.font = style.font;
    const charWidth = ctx.measureText('0'.repeat(50)).width / 50;
    const lineHeight = parseFloat(style.lineHeight) || 1.45 * parseFloat(style.fontSize);
    const width = this.el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const height = this.el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    if (!(charWidth > 0) || width <= 0 || height <= 0) return { cols: 80, rows: 24 }; // hidden
    return { cols: Math.max(1, Math.floor(width / charWidth)), rows: Math.max(1, Math.floor(height / lineHeight)) };
  }
}


// fill draws a queued line into div. The target's text goes in as text
// nodes, never as markup.
function fill(div, entry) {
  div.className = 'line ' + entry.kind;
  if (entry.text !== undefined) {
    div.textContent = entry.text;
    return div;
  }
  const runs = entry.runs;
  if (runs.length === 1 && runs[0].attr === DEFAULT) {
    div.textContent = runs[0].text;
    return div;
  }
  const nodes = runs.map(({ text, attr }) => {
    if (attr === DEFAULT) return text;
    const span = document.createElement('span');
    if (attr.cls) span.className = attr.cls;
    // The CSSOM, not a style attribute: the CSP allows the one, not the other.
    if (attr.color) span.style.color = attr.color;
    if (attr.background) span.style.backgroundColor = attr.background;
    span.textContent = text;
    return span;
  });
  div.replaceChildren(...nodes);
  return div;
}
