/** Longest line kept whole; a longer one is cut so one runaway line cannot exhaust memory. */
export const MAX_LINE_BYTES = 64 * 1024;

export interface LineSplitter {
  /** Feeds a chunk of output; complete lines go to `onLine` at once. */
  push(chunk: Buffer): void;
  /** Emits a partial last line, if any (the process has exited). */
  end(): void;
}

/**
 * Splits a byte stream into lines. `\n`, `\r\n` and a lone `\r` all end a line: FFmpeg and
 * Blender redraw their progress with `\r`, and those updates must arrive while the process runs.
 * A line over `maxLineBytes` keeps its first `maxLineBytes` bytes plus a marker saying how long
 * it was; the rest is counted but not kept.
 */
export function createLineSplitter(
  onLine: (line: string) => void,
  maxLineBytes = MAX_LINE_BYTES,
): LineSplitter {
  let parts: Buffer[] = [];
  let kept = 0;
  let total = 0;
  // A `\r` at the end of one chunk and a `\n` at the start of the next are one line break.
  let afterCR = false;

  const append = (buf: Buffer): void => {
    total += buf.length;
    const room = maxLineBytes - kept;
    if (room <= 0) return;
    const piece = buf.length > room ? buf.subarray(0, room) : buf;
    parts.push(Buffer.from(piece));
    kept += piece.length;
  };

  const emit = (): void => {
    let line = Buffer.concat(parts, kept).toString('utf8');
    if (total > kept) line += ` [line cut: ${total} bytes, kept the first ${kept}]`;
    parts = [];
    kept = 0;
    total = 0;
    onLine(line);
  };

  return {
    push(chunk) {
      let start = 0;
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (byte !== 0x0a && byte !== 0x0d) {
          afterCR = false;
          continue;
        }
        if (byte === 0x0a && afterCR && i === start) {
          // The `\n` of a `\r\n` whose `\r` already ended the line.
          afterCR = false;
          start = i + 1;
          continue;
        }
        append(chunk.subarray(start, i));
        emit();
        afterCR = byte === 0x0d;
        start = i + 1;
      }
      if (start < chunk.length) append(chunk.subarray(start));
    },
    end() {
      if (total > 0) emit();
    },
  };
}
