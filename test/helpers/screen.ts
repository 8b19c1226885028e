/**
 * A minimal terminal for tests: applies what a program wrote to a TTY (text, \r, \n, ESC[2K erase line,
 * ESC[nA cursor up, other CSI sequences ignored) and returns the lines left on screen. Independent of the
 * renderer: it only knows the VT100 meaning of the codes.
 */
export function screen(output: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  for (let i = 0; i < output.length; i++) {
    const ch = output[i]!;
    if (ch === '\x1b' && output[i + 1] === '[') {
      const m = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(output.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const n = m[1] === '' ? 1 : Number(m[1]);
      if (m[2] === 'K' && m[1] === '2') lines[row] = '';
      else if (m[2] === 'K') lines[row] = lines[row]!.slice(0, col);
      else if (m[2] === 'A') row = Math.max(0, row - n);
      else if (m[2] === 'G') col = n - 1;
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
      while (lines.length <= row) lines.push('');
    } else {
      const l = lines[row]!.padEnd(col);
      lines[row] = l.slice(0, col) + ch + l.slice(col + 1);
      col++;
    }
  }
  // a trailing empty line is where the cursor waits
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
