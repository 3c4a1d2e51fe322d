// The Save button: downloads what the person sees as plain text, named
// after the target and the time. Line mode saves the console's lines;
// terminal mode the terminal's scrollback and screen, with wrapped rows
// joined back into their lines.

// transcriptText is the text of the console element, or of an xterm.js
// Terminal's buffer, one line per line, ending in a newline.
export function transcriptText(source) {
  const lines = [];
  if (source.buffer) {
    // Rows are whole width; a wrapped row continues the one before, so
    // only the end of each line loses its trailing blanks.
    const b = source.buffer.active;
    for (let i = 0; i < b.length; i++) {
      const row = b.getLine(i);
      if (row.isWrapped && lines.length > 0) lines[lines.length - 1] += row.translateToString(false);
      else lines.push(row.translateToString(false));
    }
    for (let i = 0; i < lines.length; i++) lines[i] = lines[i].trimEnd();
    while (lines.length > 0 && lines.at(-1).trim() === '') lines.pop(); // the empty screen below
  } else {
    for (const line of source.querySelectorAll('.line')) lines.push(line.textContent);
  }
  return lines.map((l) => l + '\n').join('');
}

// transcriptName is e.g. "bbs.example.org_23-20261128T174501Z.txt".
export function transcriptName(target, when = new Date()) {
  const stamp = when.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const name = (target || 'wstelnet').replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^_+|_+$/g, '');
  return `${name}-${stamp}.txt`;
}

// saveTranscript downloads the text of source as a file.
export function saveTranscript(source, target) {
  const blob = new Blob([transcriptText(source)], { type: 'text/plain;charset=utf-8' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = transcriptName(target);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
