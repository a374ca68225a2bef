/** One NDJSON line: the parsed value, or why it could not be parsed. */
export type NdjsonLine = { line: number; value: unknown } | { line: number; error: string };

/**
 * Streaming NDJSON reader: chunks may split a line anywhere. Accepts LF and CRLF line ends and
 * a leading byte order mark; skips blank lines (they still count for line numbers).
 */
export class NdjsonParser {
  /** Start of a line that continues in the next chunk. */
  private pending = '';
  private line = 0;
  private started = false;

  push(chunk: string, out: NdjsonLine[] = []): NdjsonLine[] {
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      this.emit(this.pending.length > 0 ? this.pending + piece : piece, out);
      this.pending = '';
      start = nl + 1;
    }
    if (start < text.length) this.pending += text.slice(start);
    return out;
  }

  end(out: NdjsonLine[] = []): NdjsonLine[] {
    if (this.pending.length > 0) this.emit(this.pending, out);
    this.pending = '';
    return out;
  }

  private emit(raw: string, out: NdjsonLine[]): void {
    this.line++;
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (text.trim().length === 0) return;
    try {
      out.push({ line: this.line, value: JSON.parse(text) });
    } catch (err) {
      out.push({
        line: this.line,
        error: `JSON parse failed: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }
}
