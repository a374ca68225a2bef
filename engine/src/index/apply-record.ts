import { ANON_ID_PROPERTY, IDENTIFY_EVENT } from '@weft/core';
import {
  type EventRecord,
  type EventVisitor,
  NONE,
  PROP_FALSE,
  PROP_NULL,
  PROP_NUMBER,
  PROP_STRING,
  PROP_TRUE,
} from '../bus/event-codec.js';
import type { ProjectIndex } from './project-index.js';
import { ValueTable } from './value-table.js';

/**
 * Applies an events record to a project's index without building event objects: each
 * distinct string of the record is interned once, rows are written from ids. Duplicate
 * event ids (retries, replays) are skipped.
 */
class RecordApplier implements EventVisitor {
  private index!: ProjectIndex;
  private rec!: EventRecord;
  /** Record string index -> value id, or -1 while not yet interned. */
  private ids = new Int32Array(1024);
  /** Record string index -> user number for distinct ids, or -1; identify clears it (merges renumber). */
  private users = new Int32Array(1024);
  private pairs = new Uint32Array(256);
  private n = 0;
  private anonKey = 0;
  private anon = NONE;
  private time = 0;
  private hi = 0;
  private lo = 0;
  private ev = 0;
  private who = 0;
  private session = 0;
  applied = 0;

  reset(index: ProjectIndex, rec: EventRecord): void {
    this.index = index;
    this.rec = rec;
    if (this.ids.length < rec.strings.count) {
      this.ids = new Int32Array(rec.strings.count * 2);
      this.users = new Int32Array(rec.strings.count * 2);
    }
    this.ids.fill(-1, 0, rec.strings.count);
    this.users.fill(-1, 0, rec.strings.count);
    this.anonKey = index.values.stringId(ANON_ID_PROPERTY);
    this.applied = 0;
  }

  private valueId(i: number): number {
    let id = this.ids[i]!;
    if (id < 0) {
      const strings = this.rec.strings;
      id = this.index.values.utf8Id(this.rec.buf, strings.byteStart(i), strings.byteEnd(i));
      this.ids[i] = id;
    }
    return id;
  }

  event(time: number, hi: number, lo: number, ev: number, who: number, session: number): boolean {
    if (!this.index.dedup.add(hi, lo)) return false;
    this.time = time;
    this.hi = hi;
    this.lo = lo;
    this.ev = this.valueId(ev);
    this.who = who;
    this.session = session === NONE ? ValueTable.NULL : this.valueId(session);
    this.n = 0;
    this.anon = NONE;
    return true;
  }

  prop(key: number, type: number, str: number, num: number): void {
    if (this.n + 2 > this.pairs.length) {
      const next = new Uint32Array(this.pairs.length * 2);
      next.set(this.pairs);
      this.pairs = next;
    }
    const k = this.valueId(key);
    let v: number;
    if (type === PROP_STRING) {
      v = this.valueId(str);
      if (k === this.anonKey) this.anon = str;
    } else if (type === PROP_NUMBER) v = this.index.values.id(num);
    else if (type === PROP_TRUE) v = ValueTable.TRUE;
    else if (type === PROP_FALSE) v = ValueTable.FALSE;
    else if (type === PROP_NULL) v = ValueTable.NULL;
    else v = ValueTable.NULL;
    this.pairs[this.n++] = k;
    this.pairs[this.n++] = v;
  }

  end(setsAt: number): void {
    const index = this.index;
    const strings = this.rec.strings;
    let user = this.users[this.who]!;
    if (this.anon !== NONE && index.values.get(this.ev) === IDENTIFY_EVENT) {
      user = index.link(strings.get(this.who), strings.get(this.anon));
      this.users.fill(-1, 0, strings.count);
    } else if (user < 0) {
      user = index.userNumber(strings.get(this.who));
      this.users[this.who] = user;
    }
    index.addRowIds(this.hi, this.lo, user, this.ev, this.time, this.session, this.pairs, this.n);
    const buf = this.rec.buf;
    const sets = buf.readUInt16LE(setsAt) !== 0 || buf.readUInt16LE(this.rec.skipProps(setsAt)) !== 0;
    if (sets) {
      const [set, next] = this.rec.readProps(setsAt);
      const [once] = this.rec.readProps(next);
      index.updateProfile(user, set, once);
    }
    this.applied++;
    observer?.applied(index, user, this.ev, sets);
  }
}

/** Told of every applied event, after its row and profile update (segments keep membership current). */
export interface ApplyObserver {
  applied(index: ProjectIndex, user: number, ev: number, profileChanged: boolean): void;
}

let observer: ApplyObserver | undefined;

export function setApplyObserver(o: ApplyObserver | undefined): void {
  observer = o;
}

const applier = new RecordApplier();

/** Applies the record's events in order; returns how many were new. */
export function applyRecord(index: ProjectIndex, rec: EventRecord): number {
  applier.reset(index, rec);
  rec.visit(applier);
  return applier.applied;
}
