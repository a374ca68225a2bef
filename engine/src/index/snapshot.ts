import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Properties, PropValue } from '@weft/core';
import { makeData, makeVector, Table, tableFromIPC, tableToIPC, Utf8 } from 'apache-arrow';
import { packStrings } from '../bus/string-pack.js';
import { writeFileAtomic } from '../fs/durable-files.js';
import { ProjectIndex } from './project-index.js';

/**
 * Snapshots are incremental: each one is a delta file of Arrow IPC tables holding what
 * changed since the previous one (new rows, dictionary entries, merges, evictions,
 * profiles), per project. The manifest lists the deltas and the log offset they reflect;
 * it is replaced atomically, so a crash mid-snapshot leaves the previous one intact.
 * The row tables double as the embedded columnar raw store of the shard's events.
 */
export interface Manifest {
  version: 1;
  deltas: string[];
  appliedOffset: number;
}

type Columns = Record<string, ReturnType<typeof makeVector>>;

function table(columns: Columns): Uint8Array {
  return tableToIPC(new Table(columns), 'stream');
}

/** A Utf8 column built from packed bytes: Arrow's builder encodes string by string. */
function strings(values: string[]) {
  const { bytes, offsets } = packStrings(values);
  return makeVector(
    makeData({ type: new Utf8(), length: values.length, valueOffsets: offsets, data: bytes }),
  );
}

/** In the `departed` table: the id left, then came back here. */
const CAME_BACK = 0xffffffff;

const KIND_STRING = 0;
const KIND_NUMBER = 1;
const KIND_OTHER = 2;

function deltaTables(index: ProjectIndex): Map<string, Uint8Array> {
  const p = index.pending;
  const rowEnd = index.rowCount;
  const poolFrom = index.propStart.data[p.fromRow]!;
  const poolTo = index.propStart.data[rowEnd]!;
  const propLen = new Uint32Array(rowEnd - p.fromRow);
  for (let r = p.fromRow; r < rowEnd; r++) {
    propLen[r - p.fromRow] = index.propStart.data[r + 1]! - index.propStart.data[r]!;
  }
  const newValues = index.values.values.slice(p.fromValue);
  const kinds = new Uint8Array(newValues.length);
  const nums = new Float64Array(newValues.length);
  const strs: string[] = [];
  newValues.forEach((v, i) => {
    if (typeof v === 'string') {
      kinds[i] = KIND_STRING;
      strs.push(v);
    } else {
      strs.push('');
      if (typeof v === 'number') {
        kinds[i] = KIND_NUMBER;
        nums[i] = v;
      } else kinds[i] = KIND_OTHER;
    }
  });
  const profileUsers = [...p.profiles];
  const tables = new Map<string, Uint8Array>();
  tables.set(
    'rows',
    table({
      time: makeVector(index.time.data.slice(p.fromRow, rowEnd)),
      user: makeVector(index.user.data.slice(p.fromRow, rowEnd)),
      event: makeVector(index.event.data.slice(p.fromRow, rowEnd)),
      session: makeVector(index.session.data.slice(p.fromRow, rowEnd)),
      id_hi: makeVector(index.idHi.data.slice(p.fromRow, rowEnd)),
      id_lo: makeVector(index.idLo.data.slice(p.fromRow, rowEnd)),
      prop_len: makeVector(propLen),
    }),
  );
  tables.set('props', table({ pair: makeVector(index.propPool.data.slice(poolFrom, poolTo)) }));
  tables.set('values', table({ kind: makeVector(kinds), num: makeVector(nums), str: strings(strs) }));
  tables.set(
    'ids',
    table({
      id: strings(p.newIds.map(([id]) => id)),
      no: makeVector(Uint32Array.from(p.newIds, ([, n]) => n)),
    }),
  );
  tables.set(
    'remaps',
    table({
      from: makeVector(Uint32Array.from(p.remaps, ([f]) => f)),
      to: makeVector(Uint32Array.from(p.remaps, ([, t]) => t)),
    }),
  );
  tables.set('evicted', table({ no: makeVector(Uint32Array.from(p.evicted)) }));
  const renamed = [...p.renamed];
  tables.set(
    'renames',
    table({
      no: makeVector(Uint32Array.from(renamed)),
      name: strings(renamed.map((u) => index.names[u]!)),
    }),
  );
  const departures = [...p.departures];
  tables.set(
    'departed',
    table({
      id: strings(departures),
      to: makeVector(Uint32Array.from(departures, (id) => index.departed.get(id) ?? CAME_BACK)),
    }),
  );
  tables.set(
    'profiles',
    table({
      no: makeVector(Uint32Array.from(profileUsers)),
      json: strings(profileUsers.map((u) => JSON.stringify(index.profiles[u] ?? null))),
    }),
  );
  return tables;
}

/** Container: repeated [u32 name length][name][u32 byte length][Arrow IPC stream]. */
function writeContainer(path: string, entries: Map<string, Uint8Array>): void {
  const fd = openSync(path, 'w');
  try {
    for (const [name, bytes] of entries) {
      const nameBytes = Buffer.from(name);
      const head = Buffer.allocUnsafe(8 + nameBytes.length);
      head.writeUInt32LE(nameBytes.length, 0);
      nameBytes.copy(head, 4);
      head.writeUInt32LE(bytes.byteLength, 4 + nameBytes.length);
      writeSync(fd, head);
      writeSync(fd, bytes);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readContainer(path: string): Map<string, Buffer> {
  const buf = readFileSync(path);
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < buf.length) {
    const nameLen = buf.readUInt32LE(pos);
    const name = buf.toString('utf8', pos + 4, pos + 4 + nameLen);
    const len = buf.readUInt32LE(pos + 4 + nameLen);
    const start = pos + 8 + nameLen;
    out.set(name, buf.subarray(start, start + len));
    pos = start + len;
  }
  return out;
}

export function readManifest(dir: string): Manifest {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, deltas: [], appliedOffset: 0 };
    throw err;
  }
}

/** Writes the changes of every project since the last snapshot and moves the manifest to `appliedOffset`. */
export function writeSnapshot(
  dir: string,
  projects: Iterable<ProjectIndex>,
  manifest: Manifest,
  appliedOffset: number,
): Manifest {
  mkdirSync(dir, { recursive: true });
  const entries = new Map<string, Uint8Array>();
  const written: ProjectIndex[] = [];
  for (const index of projects) {
    const p = index.pending;
    const changed =
      p.fromRow !== index.rowCount ||
      p.fromValue !== index.values.size ||
      p.newIds.length +
        p.remaps.length +
        p.evicted.length +
        p.profiles.size +
        p.renamed.size +
        p.departures.size >
        0;
    if (!changed) continue;
    for (const [name, bytes] of deltaTables(index)) entries.set(`${index.project}\u0000${name}`, bytes);
    written.push(index);
  }
  const next: Manifest = { version: 1, deltas: [...manifest.deltas], appliedOffset };
  if (entries.size > 0) {
    const name = `delta-${String(manifest.deltas.length).padStart(8, '0')}.arrow`;
    writeContainer(join(dir, name), entries);
    next.deltas.push(name);
  }
  writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(next));
  for (const index of written) index.pending = index.freshPending();
  return next;
}

function column(t: Table, name: string): ArrayLike<number> {
  return t.getChild(name)!.toArray() as ArrayLike<number>;
}

function stringColumn(t: Table, name: string): string[] {
  return t.getChild(name)!.toArray() as string[];
}

/** Rebuilds every project of a shard from its deltas (rows first, derived indexes after). */
export function loadSnapshot(dir: string, manifest: Manifest): Map<string, ProjectIndex> {
  const projects = new Map<string, ProjectIndex>();
  const evicted = new Map<ProjectIndex, Set<number>>();
  for (const delta of manifest.deltas) {
    const entries = readContainer(join(dir, delta));
    const byProject = new Map<string, Map<string, Table>>();
    for (const [key, bytes] of entries) {
      const [project, name] = key.split('\u0000') as [string, string];
      let tables = byProject.get(project);
      if (!tables) byProject.set(project, (tables = new Map()));
      tables.set(name, tableFromIPC(bytes));
    }
    for (const [project, tables] of byProject) {
      let index = projects.get(project);
      if (!index) projects.set(project, (index = new ProjectIndex(project)));
      if (!evicted.has(index)) evicted.set(index, new Set());
      applyDelta(index, tables, evicted.get(index)!);
    }
  }
  for (const [index, gone] of evicted) rebuildDerived(index, gone);
  return projects;
}

function applyDelta(index: ProjectIndex, tables: Map<string, Table>, evicted: Set<number>): void {
  const values = tables.get('values')!;
  const kinds = column(values, 'kind');
  const nums = column(values, 'num');
  const strs = stringColumn(values, 'str');
  for (let i = 0; i < kinds.length; i++) {
    const v: PropValue = kinds[i] === KIND_STRING ? strs[i]! : nums[i]!;
    if (kinds[i] === KIND_OTHER) continue;
    if (typeof v === 'string') index.values.stringId(v);
    else index.values.id(v);
  }
  const ids = tables.get('ids')!;
  const idNames = stringColumn(ids, 'id');
  const idNos = column(ids, 'no');
  for (let i = 0; i < idNames.length; i++) {
    const n = idNos[i]!;
    while (index.names.length <= n) index.addUser();
    if (index.names[n] === '' || !index.ids.has(index.names[n]!)) index.names[n] = idNames[i]!;
    index.ids.set(idNames[i]!, n);
  }
  // Canonical ids that changed after the user's first id (absent from older snapshots). Before
  // merges and evictions: a user renamed and then merged away in one delta ends nameless.
  const renames = tables.get('renames');
  if (renames) {
    const renamedNos = column(renames, 'no');
    const renamedTo = stringColumn(renames, 'name');
    for (let i = 0; i < renamedNos.length; i++) index.names[renamedNos[i]!] = renamedTo[i]!;
  }
  const rows = tables.get('rows')!;
  const pool = column(tables.get('props')!, 'pair');
  index.time.pushAll(column(rows, 'time'));
  index.user.pushAll(column(rows, 'user'));
  index.event.pushAll(column(rows, 'event'));
  index.session.pushAll(column(rows, 'session'));
  index.idHi.pushAll(column(rows, 'id_hi'));
  index.idLo.pushAll(column(rows, 'id_lo'));
  const propLen = column(rows, 'prop_len');
  let start = index.propPool.length;
  for (let i = 0; i < propLen.length; i++) {
    start += propLen[i]!;
    index.propStart.push(start);
  }
  index.propPool.pushAll(pool);
  const remaps = tables.get('remaps')!;
  const from = column(remaps, 'from');
  const to = column(remaps, 'to');
  const userCol = index.user.data;
  for (let i = 0; i < from.length; i++) {
    for (let r = 0; r < index.rowCount; r++) if (userCol[r] === from[i]) userCol[r] = to[i]!;
    for (const [id, n] of index.ids) if (n === from[i]) index.ids.set(id, to[i]!);
    index.names[from[i]!] = '';
  }
  for (const n of Array.from(column(tables.get('evicted')!, 'no'))) {
    evicted.add(n);
    for (const [id, m] of index.ids) if (m === n) index.ids.delete(id);
    index.names[n] = '';
  }
  // Absent from snapshots older than departed ids.
  const departed = tables.get('departed');
  if (departed) {
    const ids = stringColumn(departed, 'id');
    const to = column(departed, 'to');
    for (let i = 0; i < ids.length; i++) {
      if (to[i] === CAME_BACK) index.departed.delete(ids[i]!);
      else index.departed.set(ids[i]!, to[i]!);
    }
  }
  const profiles = tables.get('profiles')!;
  const pNos = column(profiles, 'no');
  const pJson = stringColumn(profiles, 'json');
  for (let i = 0; i < pNos.length; i++) {
    index.profiles[pNos[i]!] = (JSON.parse(pJson[i]!) as Properties | null) ?? undefined;
  }
}

/** Timelines, (event, day) slots and the dedup table follow from the rows. */
function rebuildDerived(index: ProjectIndex, evicted: Set<number>): void {
  const n = index.rowCount;
  const userCol = index.user.data;
  const eventCol = index.event.data;
  const times = index.time.data;
  for (const u of evicted) index.timelines.evict(u);
  for (let r = 0; r < n; r++) {
    const u = userCol[r]!;
    if (evicted.has(u)) continue;
    index.dedup.add(index.idHi.data[r]!, index.idLo.data[r]!);
    index.indexDay(r, u, eventCol[r]!, times[r]!);
  }
  // One sort of all rows by (user, time) builds every timeline at once.
  index.timelines.rebuild();
  index.rebuildMultiIds();
  index.pending = index.freshPending();
}
