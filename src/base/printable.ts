// Text from elsewhere made safe to show on one line: the CLI prints it so (audit show), and the
// coordinator escapes a node's words so before they go into an error or a transcript.

/**
 * Text someone else wrote (a transcript's time, actor, step, subject names, an abort message, a
 * node's answer),
 * made safe to print on one terminal line: C0 and C1 control characters (newline, carriage
 * return, escape — terminal sequences), DEL, the Unicode line and paragraph separators and the
 * bidirectional overrides are shown as \u{…} escapes, and a backslash as \\, so the text can
 * neither start a forged line nor hide or reorder what follows it.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => (c === '\\' ? '\\\\' : `\\u{${c.codePointAt(0)!.toString(16)}}`));
}
