import { invalid } from '@weft/core';
import { CsvParser, type CsvRecord } from './csv.js';
import { CsvRowMapper, type ImportMapping, ndjsonToEvent, type RowEvent } from './mapping.js';
import { type NdjsonLine, NdjsonParser } from './ndjson.js';

/** A source row as a wire event (or the reason it is rejected) and its 1-based line in the file. */
export interface ImportRow {
  line: number;
  event: RowEvent;
}

/** Turns the decoded text of an import, chunk by chunk, into rows. */
export interface RowReader {
  push(text: string): ImportRow[];
  end(): ImportRow[];
}

export function rowReader(mapping: ImportMapping): RowReader {
  return mapping.format === 'csv' ? new CsvRowReader(mapping) : new NdjsonRowReader(mapping);
}

class CsvRowReader implements RowReader {
  private readonly parser = new CsvParser();
  private mapper: CsvRowMapper | undefined;

  constructor(private readonly mapping: ImportMapping) {}

  push(text: string): ImportRow[] {
    return this.rows(this.parser.push(text));
  }

  end(): ImportRow[] {
    const rows = this.rows(this.parser.end());
    if (this.mapper === undefined) throw invalid('body', 'the CSV has no header line');
    return rows;
  }

  private rows(records: CsvRecord[]): ImportRow[] {
    const rows: ImportRow[] = [];
    for (const record of records) {
      if (this.mapper === undefined) {
        // The first record is the header: a missing mapped column fails before anything is published.
        this.mapper = new CsvRowMapper(record.fields, this.mapping);
      } else if (record.error !== undefined) {
        rows.push({ line: record.line, event: record.error });
      } else {
        rows.push({ line: record.line, event: this.mapper.toEvent(record.fields) });
      }
    }
    return rows;
  }
}

class NdjsonRowReader implements RowReader {
  private readonly parser = new NdjsonParser();

  constructor(private readonly mapping: ImportMapping) {}

  push(text: string): ImportRow[] {
    return this.rows(this.parser.push(text));
  }

  end(): ImportRow[] {
    return this.rows(this.parser.end());
  }

  private rows(lines: NdjsonLine[]): ImportRow[] {
    return lines.map((parsed) => ({
      line: parsed.line,
      event: 'error' in parsed ? parsed.error : ndjsonToEvent(parsed.value, this.mapping),
    }));
  }
}
