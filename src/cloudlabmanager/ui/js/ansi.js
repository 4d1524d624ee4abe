// ANSI escape handling for job output. Only an allow-list of SGR codes
// (bold, dim, italic, underline, the 8/16 colours, resets) survives, as class
// names; every other escape or control sequence is dropped. The result is a
// list of {text, classes} segments for dom.js to turn into text nodes.

const ESC = "\u001b";
// CSI: ESC [ or the 8-bit U+009B, parameters, intermediates, one final byte.
// OSC/DCS/SOS/PM/APC: ESC ] P X ^ _ (or 8-bit forms) up to BEL or ST.
// Two-byte escapes: ESC followed by one byte in @-_ or other printable range.
// Remaining C0/C1 controls except TAB are dropped.
const TOKEN =
  // eslint-disable-next-line no-control-regex
  /(?:\u001b\[|\u009b)([0-?]*)([ -/]*)([@-~])?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -/]*[0-~]?|[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

function initialState() {
  return { bold: false, dim: false, italic: false, underline: false, fg: null, bg: null };
}

function classesOf(state) {
  const classes = [];
  if (state.bold) classes.push("ansi-bold");
  if (state.dim) classes.push("ansi-dim");
  if (state.italic) classes.push("ansi-italic");
  if (state.underline) classes.push("ansi-underline");
  if (state.fg !== null) classes.push(`ansi-fg-${state.fg}`);
  if (state.bg !== null) classes.push(`ansi-bg-${state.bg}`);
  return classes;
}

function applySgr(state, params) {
  const codes = params === "" ? [0] : params.split(";").map((p) => (p === "" ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (!Number.isInteger(code)) continue;
    if (code === 0) Object.assign(state, initialState());
    else if (code === 1) state.bold = true;
    else if (code === 2) state.dim = true;
    else if (code === 3) state.italic = true;
    else if (code === 4) state.underline = true;
    else if (code === 22) state.bold = state.dim = false;
    else if (code === 23) state.italic = false;
    else if (code === 24) state.underline = false;
    else if (code >= 30 && code <= 37) state.fg = code - 30;
    else if (code === 39) state.fg = null;
    else if (code >= 40 && code <= 47) state.bg = code - 40;
    else if (code === 49) state.bg = null;
    else if (code >= 90 && code <= 97) state.fg = code - 90 + 8;
    else if (code >= 100 && code <= 107) state.bg = code - 100 + 8;
    else if (code === 38 || code === 48) {
      // Extended colours are not on the allow-list: skip their arguments.
      if (codes[i + 1] === 5) i += 2;
      else if (codes[i + 1] === 2) i += 4;
    }
  }
}

/** Split one line into styled segments: [{text, classes: [..]}]. */
export function parseAnsi(line) {
  const segments = [];
  const state = initialState();
  let last = 0;
  const push = (text) => {
    if (!text) return;
    const classes = classesOf(state);
    const prev = segments[segments.length - 1];
    if (prev && prev.classes.join(" ") === classes.join(" ")) prev.text += text;
    else segments.push({ text, classes });
  };
  const input = String(line);
  if (!/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(input)) return [{ text: input, classes: [] }];
  TOKEN.lastIndex = 0;
  let match;
  while ((match = TOKEN.exec(input)) !== null) {
    push(input.slice(last, match.index));
    last = TOKEN.lastIndex;
    if (match[3] === "m" && match[2] === "" && /^[0-9;]*$/.test(match[1])) applySgr(state, match[1]);
    if (match[0] === "") TOKEN.lastIndex++;
  }
  push(input.slice(last));
  return segments;
}

/** The visible text of a line: every escape and control sequence removed. */
export function stripAnsi(line) {
  const input = String(line);
  if (!/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(input)) return input;
  return input.replace(TOKEN, "");
}

export { ESC };
