import type { Properties, PropValue } from '@weft/core';
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
import type { ProjectIndex, StoredEvent } from './project-index.js';
import { ValueTable } from './value-table.js';

/** Events of a departed id, to follow its person to partition `to`, with their profile updates. */
export interface Forward {
  id: string;
  to: number;
  events: StoredEvent[];
  set: Properties | undefined;
  once: Properties | undefined;
}

/**
 * Applies an events record to a project's index without building event objects: each
 * distinct string of the record is interned once, rows are written from ids. Duplicate
 * event ids (retries, replays) are skipped. Events of an id whose person left for another
 * partition (`ProjectIndex.departed`) are not applied but collected, as objects, into
 * forwards for that partition.
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
  /** The current event, when its id departed: it is collected, not applied. */
  private forwarding: StoredEvent | undefined;
  private forwardTo = 0;
  readonly forwards = new Map<string, Forward>();
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
    this.forwarding = undefined;
    this.forwards.clear();
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
    this.forwarding = undefined;
    if (this.index.departed.size > 0) {
      const strings = this.rec.strings;
      const to = this.index.departed.get(strings.get(who));
      if (to !== undefined) {
        // Deduplicated where it lands, not here.
        this.forwarding = { event: strings.get(ev), time, properties: {}, idHi: hi, idLo: lo };
        if (session !== NONE) this.forwarding.session_id = strings.get(session);
        this.forwardTo = to;
        this.who = who;
        return true;
      }
    }
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
    if (this.forwarding) {
      const strings = this.rec.strings;
      const value: PropValue =
        type === PROP_STRING
          ? strings.get(str)
          : type === PROP_NUMBER
            ? num
            : type === PROP_TRUE
              ? true
              : type === PROP_FALSE
                ? false
                : null;
      this.forwarding.properties[strings.get(key)] = value;
      return;
    }
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
    if (this.forwarding) {
      this.forward(this.forwarding, setsAt);
      return;
    }
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

  private forward(e: StoredEvent, setsAt: number): void {
    const id = this.rec.strings.get(this.who);
    let f = this.forwards.get(id);
    if (!f)
      this.forwards.set(id, (f = { id, to: this.forwardTo, events: [], set: undefined, once: undefined }));
    f.events.push(e);
    const [set, next] = this.rec.readProps(setsAt);
    const [once] = this.rec.readProps(next);
    // In event order: a later $set wins, an earlier $set_once does.
    if (set) f.set = { ...f.set, ...set };
    if (once) f.once = { ...once, ...f.once };
    this.forwarding = undefined;
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
const NO_FORWARDS: Forward[] = [];

/**
 * Applies the record's events in order; returns how many were new, and the events of
 * departed ids to forward (valid until the next call).
 */
export function applyRecord(index: ProjectIndex, rec: EventRecord): { applied: number; forwards: Forward[] } {
  applier.reset(index, rec);
  rec.visit(applier);
  const forwards = applier.forwards.size > 0 ? [...applier.forwards.values()] : NO_FORWARDS;
  return { applied: applier.applied, forwards };
}
