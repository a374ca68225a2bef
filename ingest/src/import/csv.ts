/** One CSV record and the 1-based physical line it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
  /** Set on the last record when the input ended inside a quoted field. */
  error?: string;
}

const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;

/** Parser states: at the start of a field, inside an unquoted one, inside quotes, just after a quote inside quotes. */
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/**
 * Streaming RFC 4180 parser: text arrives in chunks that may split a record, a quoted field,
 * a `""` escape or a CRLF anywhere. Accepts LF, CRLF and lone CR line ends, quoted fields with
 * commas, quotes and newlines, and a leading byte order mark; skips blank lines. Text after a
 * closing quote is kept verbatim, as spreadsheet programs do.
 */
export class CsvParser {
  private fields: string[] = [];
  /** Text of the current field gathered from earlier chunks or quoted segments. */
  private field = '';
  private state = FIELD_START;
  private afterCR = false;
  private line = 1;
  private recordLine = 1;
  private started = false;

  /** Parses a chunk, appending the records it completes to `out`. */
  push(chunk: string, out: CsvRecord[] = []): CsvRecord[] {
    let text = chunk;
    if (!this.started) {
      if (text.length === 0) return out;
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let segment = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const wasCR = this.afterCR;
      this.afterCR = c === CR;
      if (this.state === QUOTED) {
        if (c === QUOTE) {
          this.field += text.slice(segment, i);
          this.state = QUOTE_IN_QUOTED;
        } else if (c === CR || (c === LF && !wasCR)) {
          this.line++;
        }
        continue;
      }
      if (this.state === QUOTE_IN_QUOTED) {
        if (c === QUOTE) {
          this.field += '"';
          this.state = QUOTED;
          segment = i + 1;
          continue;
        }
        this.state = UNQUOTED;
        segment = i;
      }
      if (c === COMMA) {
        this.fields.push(this.field + text.slice(segment, i));
        this.field = '';
        this.state = FIELD_START;
        segment = i + 1;
      } else if (c === CR || c === LF) {
        if (c === LF && wasCR) {
          // second half of CRLF: the record already ended at the CR
          segment = i + 1;
          continue;
        }
        this.line++;
        this.endRecord(this.field + text.slice(segment, i), out);
        segment = i + 1;
      } else if (this.state === FIELD_START) {
        if (c === QUOTE) segment = i + 1;
        this.state = c === QUOTE ? QUOTED : UNQUOTED;
      }
    }
    if (this.state === UNQUOTED || this.state === QUOTED) this.field += text.slice(segment);
    return out;
  }

  /** Flushes the last record when the input does not end with a line break. */
  end(out: CsvRecord[] = []): CsvRecord[] {
    if (this.state === QUOTED) {
      this.fields.push(this.field);
      out.push({ line: this.recordLine, fields: this.fields, error: 'unterminated quoted field' });
    } else if (this.fields.length > 0 || this.state !== FIELD_START) {
      this.endRecord(this.field, out);
    }
    this.fields = [];
    this.field = '';
    this.state = FIELD_START;
    return out;
  }

  private endRecord(last: string, out: CsvRecord[]): void {
    const blank = this.fields.length === 0 && this.state === FIELD_START;
    if (!blank) {
      this.fields.push(last);
      out.push({ line: this.recordLine, fields: this.fields });
      this.fields = [];
    }
    this.field = '';
    this.state = FIELD_START;
    this.recordLine = this.line;
  }
}
