import { dayIndex, type Properties, type PropValue, type WeftEvent } from '@weft/core';
import { DedupTable, eventIdHash } from './dedup-table.js';
import { f64, type Growable, i32, u32 } from './growable.js';
import { RoaringBitmap32 } from './roaring.js';
import { Timelines } from './timelines.js';
import { ValueTable } from './value-table.js';

/** Users of one event on one UTC day, and the rows that put them there. */
export interface DaySlot {
  users: RoaringBitmap32;
  rows: Growable<Uint32Array>;
  /** Property key id -> value id per slot row (see slotColumn); dropped when rows leave. */
  columns?: Map<number, Growable<Int32Array>>;
}

/** An event as it leaves the index: for timelines and for moving a user to another shard. */
export interface StoredEvent {
  event: string;
  time: number;
  session_id?: string;
  properties: Properties;
  idHi: number;
  idLo: number;
}

/** A person leaving a shard for another: every id it answers to, its events and profile. */
export interface MovedPerson {
  ids: string[];
  events: StoredEvent[];
  profile: Properties | undefined;
  /** Forwarded events' `$set`s (the profile is applied as `$set_once`). */
  set?: Properties;
}

/** Changes since the last snapshot that are not visible in the new rows alone. */
export interface PendingChanges {
  fromRow: number;
  fromValue: number;
  newIds: Array<[string, number]>;
  remaps: Array<[number, number]>;
  evicted: number[];
  profiles: Set<number>;
  /** Users whose canonical id changed (a login id named an existing anonymous user). */
  renamed: Set<number>;
  /** Ids that left for another partition, or came back (see `departed`). */
  departures: Set<string>;
}

const NO_SESSION = ValueTable.NULL;
/** Materialized property columns kept per project (4 bytes a row each). */
const MAX_PROP_COLUMNS = 4;

/**
 * Everything one shard knows about one project: columnar rows (time, user, event, session,
 * event-id hash, interned properties), the identity dictionary, per-(event, day) user
 * bitmaps with their rows, per-user time-ordered timelines, and profiles. Rows are
 * immutable except for the user column, which merges rewrite.
 */
export class ProjectIndex {
  readonly values = new ValueTable();
  /**
   * Ids whose person an eviction sent to another partition, with that partition. Kafka mode:
   * a collector that has not read the identify's link yet routes them here still, and their
   * events go on to the person (see apply-record.ts). An id that comes back leaves the map.
   */
  readonly departed = new Map<string, number>();
  readonly time = f64(4096);
  readonly user = u32(4096);
  readonly event = u32(4096);
  readonly session = u32(4096);
  readonly idHi = u32(4096);
  readonly idLo = u32(4096);
  /** Row r's properties are pool pairs (key id, value id) in [propStart[r], propStart[r + 1]). */
  readonly propStart = u32(4097);
  readonly propPool = u32(16384);

  /** distinct id -> user number; aliases share a number. */
  readonly ids = new Map<string, number>();
  /** user number -> its canonical (latest login) distinct id; '' for a freed number. */
  readonly names: string[] = [];
  /**
   * Users whose distinct ids or canonical id changed, collected only while a sink mirrors
   * the mapping to ClickHouse (it sets this and drains it); undefined otherwise.
   */
  personChanges: Set<number> | undefined;
  /** The distinct ids of every user that has more than one; a user with one is known by its name. */
  private readonly multiIds = new Map<number, string[]>();
  readonly timelines = new Timelines({
    time: () => this.time.data,
    user: () => this.user.data,
    event: () => this.event.data,
    session: () => this.session.data,
    rowCount: () => this.rowCount,
  });
  readonly profiles: Array<Properties | undefined> = [];
  /** event id (in values) -> day -> slot */
  readonly eventDays = new Map<number, Map<number, DaySlot>>();
  readonly dedup = new DedupTable();
  pending: PendingChanges;
  /** Property key id -> its materialized value column (see propColumn). */
  private readonly propColumns = new Map<number, Growable<Int32Array>>();
  /** Reused by reads of one user's rows (one thread per index, so one scratch suffices). */
  private readonly scratch = u32(256);

  constructor(readonly project: string) {
    this.propStart.push(0);
    this.pending = this.freshPending();
  }

  get rowCount(): number {
    return this.time.length;
  }

  get userCount(): number {
    return this.ids.size;
  }

  freshPending(): PendingChanges {
    return {
      fromRow: this.rowCount,
      fromValue: this.values.size,
      newIds: [],
      remaps: [],
      evicted: [],
      profiles: new Set(),
      renamed: new Set(),
      departures: new Set(),
    };
  }

  /** Applies events in order; duplicates (same event_id) are skipped. Returns how many were new. */
  applyEvents(events: readonly WeftEvent[]): number {
    let applied = 0;
    for (const e of events) {
      const [hi, lo] = eventIdHash(this.project, e.event_id);
      if (!this.dedup.add(hi, lo)) continue;
      const user = e.event === '$identify' ? this.identify(e) : this.userNumber(e.distinct_id);
      this.addRow(hi, lo, user, e.event, e.time, e.session_id, e.properties);
      if (e.$set || e.$set_once) this.updateProfile(user, e.$set, e.$set_once);
      applied++;
    }
    return applied;
  }

  /**
   * Applies a person moved here from another shard to the person of `distinctId` (the id its
   * eviction named): every id of it becomes an alias here, and its events (ids hashed there)
   * are added unless already seen, so a repeated move changes nothing.
   */
  applyMoved(distinctId: string, moved: MovedPerson): void {
    const user = this.aliasAll(distinctId, moved.ids);
    // The ids may have had another person on the old shard: their mapping is re-written from here.
    this.personChanges?.add(user);
    for (const e of moved.events) {
      if (!this.dedup.add(e.idHi, e.idLo)) continue;
      this.addRow(e.idHi, e.idLo, user, e.event, e.time, e.session_id, e.properties);
    }
    if (moved.profile) this.updateProfile(user, undefined, moved.profile);
    if (moved.set) this.updateProfile(user, moved.set, undefined);
  }

  /**
   * Makes each of `ids` an alias of the person of `distinctId` and returns its number. An id
   * that already had a person of its own here is merged into it, as an identify would.
   */
  aliasAll(distinctId: string, ids: readonly string[]): number {
    const user = this.userNumber(distinctId);
    for (const id of ids) {
      const n = this.ids.get(id);
      if (n === undefined) this.alias(id, user);
      else if (n !== user) this.merge(n, user);
    }
    return user;
  }

  userNumber(distinctId: string): number {
    let n = this.ids.get(distinctId);
    if (n === undefined) {
      n = this.addUser(distinctId);
      this.ids.set(distinctId, n);
      this.pending.newIds.push([distinctId, n]);
      this.returned(distinctId);
    }
    return n;
  }

  private returned(distinctId: string): void {
    if (this.departed.size > 0 && this.departed.delete(distinctId)) this.pending.departures.add(distinctId);
  }

  /** Links the anonymous id of an `$identify` to its login id (DESIGN §4). */
  private identify(e: WeftEvent): number {
    const anon = e.properties.$anon_distinct_id;
    return typeof anon === 'string' ? this.link(e.distinct_id, anon) : this.userNumber(e.distinct_id);
  }

  /** Makes `anon` and `login` one user (merging them if both exist) and returns its number. */
  link(login: string, anon: string): number {
    if (anon === login) return this.userNumber(login);
    const u = this.ids.get(login);
    const a = this.ids.get(anon);
    if (u === undefined && a === undefined) {
      const n = this.userNumber(login);
      this.alias(anon, n);
      return n;
    }
    if (u === undefined) {
      this.alias(login, a!);
      this.names[a!] = login;
      this.pending.renamed.add(a!);
      return a!;
    }
    if (a === undefined) {
      this.alias(anon, u);
      return u;
    }
    if (a !== u) this.merge(a, u);
    return u;
  }

  /** The distinct ids of `user` (none for a freed number). */
  idsOf(user: number): readonly string[] {
    const many = this.multiIds.get(user);
    if (many) return many;
    const name = this.names[user];
    return name ? [name] : [];
  }

  /** Users with more than one distinct id. */
  multiIdUsers(): IterableIterator<number> {
    return this.multiIds.keys();
  }

  /** Recomputes which users have several ids, after a snapshot load set `ids` directly. */
  rebuildMultiIds(): void {
    this.multiIds.clear();
    for (const [id, n] of this.ids) {
      if (id === this.names[n]) continue;
      const list = this.multiIds.get(n);
      if (list) list.push(id);
      else this.multiIds.set(n, [this.names[n]!, id]);
    }
  }

  private alias(distinctId: string, n: number): void {
    const many = this.multiIds.get(n);
    if (many) many.push(distinctId);
    else this.multiIds.set(n, [this.names[n]!, distinctId]);
    this.ids.set(distinctId, n);
    this.pending.newIds.push([distinctId, n]);
    this.returned(distinctId);
    this.personChanges?.add(n);
  }

  /** Folds user `from` into user `to`: rows, bitmaps, timeline, profile and every alias. */
  private merge(from: number, to: number): void {
    const count = this.timelines.read(from, this.scratch);
    const rows = this.scratch.data;
    const userCol = this.user.data;
    const eventCol = this.event.data;
    const timeCol = this.time.data;
    for (let i = 0; i < count; i++) {
      const r = rows[i]!;
      userCol[r] = to;
      const slot = this.eventDays.get(eventCol[r]!)!.get(dayIndex(timeCol[r]!))!;
      slot.users.remove(from);
      slot.users.add(to);
    }
    this.timelines.moveAll(from, to, this.scratch);
    const fromProfile = this.profiles[from];
    if (fromProfile) this.updateProfile(to, undefined, fromProfile);
    this.profiles[from] = undefined;
    const ids = [...this.idsOf(to), ...this.idsOf(from)];
    for (const id of this.idsOf(from)) this.ids.set(id, to);
    this.multiIds.set(to, ids);
    this.multiIds.delete(from);
    this.names[from] = '';
    this.pending.remaps.push([from, to]);
    this.personChanges?.add(to);
  }

  /**
   * Removes a user and returns it so another shard can take it (an anonymous id identified as
   * a login id that lives elsewhere). The ids that pointed at it are forgotten here; given
   * the partition `to` (Kafka mode, where other collectors may still route them here), they
   * are remembered as departed there.
   */
  evict(distinctId: string, to?: number): MovedPerson | undefined {
    const n = this.ids.get(distinctId);
    if (to !== undefined) {
      for (const id of n === undefined ? [distinctId] : this.idsOf(n)) {
        this.departed.set(id, to);
        this.pending.departures.add(id);
      }
    }
    if (n === undefined) return undefined;
    const ids = [...this.idsOf(n)];
    const rows = this.userRows(n);
    const events = Array.from(rows, (r) => this.storedEvent(r));
    const eventCol = this.event.data;
    const timeCol = this.time.data;
    for (const r of rows) {
      const slot = this.eventDays.get(eventCol[r]!)!.get(dayIndex(timeCol[r]!))!;
      slot.users.remove(n);
      slot.rows.remove(r);
      slot.columns = undefined;
    }
    const profile = this.profiles[n];
    this.timelines.evict(n);
    this.profiles[n] = undefined;
    for (const id of this.idsOf(n)) this.ids.delete(id);
    this.multiIds.delete(n);
    this.names[n] = '';
    this.pending.evicted.push(n);
    return { ids, events, profile };
  }

  addRow(
    hi: number,
    lo: number,
    user: number,
    eventName: string,
    time: number,
    sessionId: string | undefined,
    props: Properties,
  ): number {
    const values = this.values;
    const ev = values.stringId(eventName);
    const session = sessionId === undefined ? NO_SESSION : values.stringId(sessionId);
    const row = this.pushColumns(hi, lo, user, ev, time, session);
    const pool = this.propPool;
    for (const key in props) {
      pool.push(values.stringId(key));
      pool.push(values.id(props[key] as PropValue));
    }
    this.propStart.push(pool.length);
    this.indexRow(row, user, ev, time);
    return row;
  }

  /**
   * Adds a row whose strings are already interned: `pairs[0..n)` holds (key id, value id)
   * pairs. `session` is a value id, or ValueTable.NULL for none.
   */
  addRowIds(
    hi: number,
    lo: number,
    user: number,
    ev: number,
    time: number,
    session: number,
    pairs: Uint32Array,
    n: number,
  ): number {
    const row = this.pushColumns(hi, lo, user, ev, time, session);
    this.propPool.pushAll(pairs.subarray(0, n));
    this.propStart.push(this.propPool.length);
    this.indexRow(row, user, ev, time);
    return row;
  }

  private pushColumns(
    hi: number,
    lo: number,
    user: number,
    ev: number,
    time: number,
    session: number,
  ): number {
    const row = this.time.push(time);
    this.user.push(user);
    this.event.push(ev);
    this.session.push(session);
    this.idHi.push(hi);
    this.idLo.push(lo);
    return row;
  }

  /** Adds a stored row to the derived structures: timeline and (event, day) slot. */
  indexRow(row: number, user: number, ev: number, time: number): void {
    this.timelines.add(user, row);
    this.indexDay(row, user, ev, time);
  }

  /** Adds a stored row to its (event, day) slot only. */
  indexDay(row: number, user: number, ev: number, time: number): void {
    let days = this.eventDays.get(ev);
    if (!days) {
      days = new Map();
      this.eventDays.set(ev, days);
    }
    const day = dayIndex(time);
    let slot = days.get(day);
    if (!slot) {
      slot = { users: new RoaringBitmap32(), rows: u32(16) };
      days.set(day, slot);
    }
    slot.users.add(user);
    slot.rows.push(row);
  }

  /** Appends a user number with no id, rows or profile yet (ids are set by the caller). */
  addUser(name = ''): number {
    const n = this.names.length;
    this.names.push(name);
    this.profiles.push(undefined);
    this.timelines.addUser();
    return n;
  }

  /** The user's rows, oldest first, as a copy. */
  userRows(user: number): Uint32Array {
    const count = this.timelines.read(user, this.scratch);
    return this.scratch.data.slice(0, count);
  }

  updateProfile(user: number, set: Properties | undefined, setOnce: Properties | undefined): void {
    let profile = this.profiles[user];
    if (!profile) {
      profile = {};
      this.profiles[user] = profile;
    }
    if (setOnce) for (const k in setOnce) if (!(k in profile)) profile[k] = setOnce[k] as PropValue;
    if (set) Object.assign(profile, set);
    this.pending.profiles.add(user);
  }

  /**
   * Bytes held by the index's typed arrays and bitmaps (capacity, not just the filled part);
   * JS-heap structures (id dictionary, interned values, profiles) are reported by the caller.
   */
  memory(): {
    rows: number;
    properties: number;
    propertyColumns: number;
    timelines: number;
    daySlots: number;
    dedup: number;
  } {
    let daySlots = 0;
    let slotColumns = 0;
    for (const days of this.eventDays.values()) {
      for (const slot of days.values()) {
        daySlots += slot.rows.data.byteLength + slot.users.getSerializationSizeInBytes('croaring');
        for (const col of slot.columns?.values() ?? []) slotColumns += col.data.byteLength;
      }
    }
    return {
      rows: [this.time, this.user, this.event, this.session, this.idHi, this.idLo].reduce(
        (a, c) => a + c.data.byteLength,
        0,
      ),
      properties: this.propStart.data.byteLength + this.propPool.data.byteLength,
      propertyColumns: [...this.propColumns.values()].reduce((a, c) => a + c.data.byteLength, slotColumns),
      timelines: this.timelines.bytes(),
      daySlots,
      dedup: this.dedup.bytes(),
    };
  }

  /**
   * Value id of property `keyId` for every row (-1 where absent): a column materialized on
   * first use and extended as rows arrive, so scans that filter or group by a property read
   * one cell per row instead of walking the row's property pairs. The few most recently
   * created are kept.
   */
  propColumn(keyId: number): Int32Array {
    let col = this.propColumns.get(keyId);
    if (!col) {
      if (this.propColumns.size >= MAX_PROP_COLUMNS) {
        this.propColumns.delete(this.propColumns.keys().next().value!);
      }
      col = i32(Math.max(1024, this.rowCount));
      this.propColumns.set(keyId, col);
    }
    const n = this.rowCount;
    if (col.length < n) {
      const pool = this.propPool.data;
      const start = this.propStart.data;
      for (let r = col.length; r < n; r++) {
        let v = -1;
        const end = start[r + 1]!;
        for (let i = start[r]!; i < end; i += 2) {
          if (pool[i] === keyId) {
            v = pool[i + 1]!;
            break;
          }
        }
        col.push(v);
      }
    }
    return col.data;
  }

  /**
   * Value id of property `keyId` for each row of a day slot, in slot order (-1 where absent):
   * scans that group by a property then read it sequentially next to the slot's rows rather
   * than jumping across the whole table. Built on first use and extended as rows arrive.
   */
  slotColumn(slot: DaySlot, keyId: number): Int32Array {
    if (!slot.columns) slot.columns = new Map();
    let col = slot.columns.get(keyId);
    if (!col) {
      if (slot.columns.size >= MAX_PROP_COLUMNS) slot.columns.delete(slot.columns.keys().next().value!);
      col = i32(Math.max(16, slot.rows.length));
      slot.columns.set(keyId, col);
    }
    const rows = slot.rows.data;
    for (let i = col.length; i < slot.rows.length; i++) col.push(this.propValueId(rows[i]!, keyId));
    return col.data;
  }

  /** Value id of property `keyId` on `row`, or -1 when the row lacks it. */
  propValueId(row: number, keyId: number): number {
    const pool = this.propPool.data;
    const end = this.propStart.data[row + 1]!;
    for (let i = this.propStart.data[row]!; i < end; i += 2) {
      if (pool[i] === keyId) return pool[i + 1]!;
    }
    return -1;
  }

  rowProperties(row: number): Properties {
    const pool = this.propPool.data;
    const values = this.values;
    const out: Properties = {};
    const end = this.propStart.data[row + 1]!;
    for (let i = this.propStart.data[row]!; i < end; i += 2) {
      out[values.get(pool[i]!) as string] = values.get(pool[i + 1]!);
    }
    return out;
  }

  storedEvent(row: number): StoredEvent {
    const session = this.session.data[row]!;
    const stored: StoredEvent = {
      event: this.values.get(this.event.data[row]!) as string,
      time: this.time.data[row]!,
      properties: this.rowProperties(row),
      idHi: this.idHi.data[row]!,
      idLo: this.idLo.data[row]!,
    };
    if (session !== NO_SESSION) stored.session_id = this.values.get(session) as string;
    return stored;
  }

  /** The user's events, oldest first. */
  timeline(distinctId: string): StoredEvent[] | undefined {
    const n = this.ids.get(distinctId);
    if (n === undefined) return undefined;
    return Array.from(this.userRows(n), (r) => this.storedEvent(r));
  }

  profile(distinctId: string): Properties | undefined {
    const n = this.ids.get(distinctId);
    return n === undefined ? undefined : this.profiles[n];
  }
}
