/**
 * Progress for long work: a rewritten line on a TTY, nothing on a pipe (logs carry it there).
 * Calling it with an empty message clears the line.
 */
export function progressLine(prefix: string, stream: NodeJS.WriteStream = process.stderr): (message: string) => void {
  if (!stream.isTTY) return () => {};
  return (message: string) => {
    stream.write(message === '' ? '\r\u001b[2K' : `\r\u001b[2K${prefix}: ${message}…`);
  };
}
