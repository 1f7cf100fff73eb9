/** Keeps the last `maxLines` lines of a growing log (the live tail must not grow without bound). */
export function appendToTail(current: string, added: string, maxLines = 2000): string {
  const text = current + added;
  let cut = text.length;
  let lines = 0;
  // Walk back from the end; the final newline ends the last line rather than starting a new one.
  for (let i = text.length - 2; i >= 0; i -= 1) {
    if (text.charCodeAt(i) === 10) {
      lines += 1;
      if (lines >= maxLines) {
        cut = i + 1;
        break;
      }
    }
  }
  return lines >= maxLines ? text.slice(cut) : text;
}
