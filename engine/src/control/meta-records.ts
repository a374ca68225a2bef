import { randomUUID } from 'node:crypto';
import type { Segment } from '@weft/segments';
import type { Definition } from '../definitions/store.js';
import type { TopicRecord } from '../kafka/topic-log.js';
import type { DefinitionChange } from './definition-change.js';

/**
 * The definitions topic's records. Keys name one thing (compaction keeps its latest state;
 * a tombstone deletes it): a segment, a rule tag, a defined event, a static list's header,
 * and the list's chunks. A list can hold millions of ids, more than a record may, so it is
 * written as chunks keyed by a fresh version, then a header naming that version; the
 * previous version's chunks are tombstoned after it. Values are JSON.
 */
type Key =
  | ['segment', string, string]
  | ['rule', string, string]
  | ['event', string, string]
  | ['list', string, string]
  | ['chunk', string, string, string, number];

interface ListHeader {
  version: string;
  chunks: number;
  updated_at: number;
}

/** The list version a process applied last, which the next upload or delete supersedes. */
export type ListVersions = (
  project: string,
  id: string,
) => Pick<ListHeader, 'version' | 'chunks'> | undefined;

/**
 * Characters of ids per chunk. Escapes and UTF-8 grow an id's JSON at most 6x, which stays
 * below the topic's largest record (MAX_MESSAGE_BYTES).
 */
const CHUNK_CHARS = 1 << 20;

function put(key: Key, value: unknown): TopicRecord {
  return { key: JSON.stringify(key), value: Buffer.from(JSON.stringify(value)) };
}

function tombstone(key: Key): TopicRecord {
  return { key: JSON.stringify(key), value: null };
}

function chunkTombstones(project: string, id: string, list: ReturnType<ListVersions>): TopicRecord[] {
  if (!list) return [];
  return Array.from({ length: list.chunks }, (_, n) => tombstone(['chunk', project, id, list.version, n]));
}

function chunked(ids: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const id of ids) {
    const size = id.length + 3;
    if (chars + size > CHUNK_CHARS && current.length > 0) {
      out.push(current);
      current = [];
      chars = 0;
    }
    current.push(id);
    chars += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The records that make a change, in the order they must be applied. */
export function encodeChange(c: DefinitionChange, lists: ListVersions): TopicRecord[] {
  switch (c.type) {
    case 'segment':
      return [put(['segment', c.project, c.segment.id], c.segment)];
    case 'segment-deleted': {
      const list = lists(c.project, c.id);
      const header = list ? [tombstone(['list', c.project, c.id])] : [];
      return [tombstone(['segment', c.project, c.id]), ...header, ...chunkTombstones(c.project, c.id, list)];
    }
    case 'static-list': {
      const version = randomUUID();
      const chunks = chunked(c.members);
      const header: ListHeader = { version, chunks: chunks.length, updated_at: c.updated_at };
      return [
        ...chunks.map((ids, n) => put(['chunk', c.project, c.id, version, n], ids)),
        put(['list', c.project, c.id], header),
        ...chunkTombstones(c.project, c.id, lists(c.project, c.id)),
      ];
    }
    case 'rule':
      return [
        c.segment === undefined
          ? tombstone(['rule', c.project, c.tag])
          : put(['rule', c.project, c.tag], { segment: c.segment }),
      ];
    case 'event':
      return [put(['event', c.project, c.definition.name], c.definition)];
    case 'event-deleted':
      return [tombstone(['event', c.project, c.name])];
  }
}

function parseKey(text: string): Key {
  const key = JSON.parse(text) as unknown;
  const ok =
    Array.isArray(key) &&
    key.slice(1, 3).every((part) => typeof part === 'string') &&
    (key.length === 3
      ? ['segment', 'rule', 'event', 'list'].includes(key[0] as string)
      : key.length === 5 && key[0] === 'chunk' && typeof key[3] === 'string' && Number.isInteger(key[4]));
  if (!ok) throw new Error(`not a definitions key: ${text}`);
  return key as Key;
}

/**
 * Turns the topic's records, read in order, back into changes. It holds a static list's
 * chunks until their header arrives, and remembers each list's version for `encodeChange`.
 */
export class MetaDecoder {
  private readonly chunks = new Map<string, string[]>();
  private readonly lists = new Map<string, ListHeader>();

  readonly listVersion: ListVersions = (project, id) => this.lists.get(JSON.stringify([project, id]));

  /** The change a record makes; undefined for a chunk, or a header whose chunks are missing. */
  take(record: TopicRecord): DefinitionChange | undefined {
    const key = parseKey(record.key);
    const value = record.value && (JSON.parse(record.value.toString('utf8')) as unknown);
    switch (key[0]) {
      case 'segment': {
        const [, project, id] = key;
        if (value) return { type: 'segment', project, segment: value as Segment };
        this.lists.delete(JSON.stringify([project, id]));
        return { type: 'segment-deleted', project, id };
      }
      case 'rule': {
        const [, project, tag] = key;
        return {
          type: 'rule',
          project,
          tag,
          segment: value ? (value as { segment: string }).segment : undefined,
        };
      }
      case 'event': {
        const [, project, name] = key;
        if (value) return { type: 'event', project, definition: value as Definition };
        return { type: 'event-deleted', project, name };
      }
      case 'chunk':
        if (value) this.chunks.set(record.key, value as string[]);
        else this.chunks.delete(record.key);
        return undefined;
      case 'list': {
        const [, project, id] = key;
        if (!value) {
          this.lists.delete(JSON.stringify([project, id]));
          return undefined;
        }
        return this.assemble(project, id, value as ListHeader);
      }
    }
  }

  private assemble(project: string, id: string, header: ListHeader): DefinitionChange | undefined {
    const keys = Array.from({ length: header.chunks }, (_, n) =>
      JSON.stringify(['chunk', project, id, header.version, n] satisfies Key),
    );
    const parts = keys.map((k) => this.chunks.get(k));
    if (parts.some((p) => p === undefined)) {
      console.error(
        `weft: static list of segment ${id} (${project}) misses chunks of version ${header.version}`,
      );
      return undefined;
    }
    for (const k of keys) this.chunks.delete(k);
    this.lists.set(JSON.stringify([project, id]), header);
    return {
      type: 'static-list',
      project,
      id,
      members: (parts as string[][]).flat(),
      updated_at: header.updated_at,
    };
  }
}
