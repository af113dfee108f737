/** Colour only when the stream is a terminal and NO_COLOR is unset. */
const enabled = (stream: NodeJS.WriteStream) => Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

const wrap = (open: number, close: number, stream: NodeJS.WriteStream) => (s: string) =>
  enabled(stream) ? `\u001b[${open}m${s}\u001b[${close}m` : s;

export const paint = {
  red: wrap(31, 39, process.stderr),
  green: wrap(32, 39, process.stdout),
  yellow: wrap(33, 39, process.stdout),
  dim: wrap(2, 22, process.stdout),
  bold: wrap(1, 22, process.stdout),
};
