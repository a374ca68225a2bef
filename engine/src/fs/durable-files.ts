import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/**
 * Replaces a file so a crash leaves either the old or the new content, never a mix: write a
 * temporary file, fsync it, rename it over the old one, fsync the directory.
 */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** A file's text, or undefined when it does not exist. */
export function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Reads an append-only file of JSON lines. A line that does not parse is skipped: it can only
 * be the torn last line of a crash mid-append, which was never acknowledged.
 */
export function readJsonLines<T>(path: string, onLine: (value: T) => void): void {
  const text = readFileIfExists(path);
  if (!text) return;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let value: T;
    try {
      value = JSON.parse(line) as T;
    } catch {
      continue;
    }
    onLine(value);
  }
}

/**
 * Opens an append-only file of JSON lines for appending. A last line without its newline is
 * the torn end of a crash mid-append: it is cut off first, or the next line would run into it.
 */
export function openJsonLinesForAppend(path: string): number {
  mkdirSync(dirname(path), { recursive: true });
  const text = readFileIfExists(path);
  if (text && !text.endsWith('\n'))
    truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
  return openSync(path, 'a');
}
