import { RoaringBitmap32 } from '../index/roaring.js';

interface TagUsers {
  users: RoaringBitmap32;
  /** Users tagged with a value, by value; users tagged without one are only in `users`. */
  byValue: Map<string, RoaringBitmap32>;
  values: Map<number, string>;
}

const EMPTY = new RoaringBitmap32();

/**
 * Manual tags of a project's users: per tag, a bitmap of the tagged users and, for tags with
 * values, a bitmap per value. Adding a tag again replaces its value; a user has a tag at most once.
 */
export class TagStore {
  private readonly tags = new Map<string, TagUsers>();

  add(user: number, tag: string, value: string | null): void {
    let t = this.tags.get(tag);
    if (!t) {
      t = { users: new RoaringBitmap32(), byValue: new Map(), values: new Map() };
      this.tags.set(tag, t);
    }
    this.dropValue(t, user);
    t.users.add(user);
    if (value === null) return;
    t.values.set(user, value);
    let set = t.byValue.get(value);
    if (!set) {
      set = new RoaringBitmap32();
      t.byValue.set(value, set);
    }
    set.add(user);
  }

  remove(user: number, tag: string): void {
    const t = this.tags.get(tag);
    if (!t) return;
    this.dropValue(t, user);
    t.users.remove(user);
    if (t.users.isEmpty) this.tags.delete(tag);
  }

  private dropValue(t: TagUsers, user: number): void {
    const old = t.values.get(user);
    if (old === undefined) return;
    t.values.delete(user);
    const set = t.byValue.get(old)!;
    set.remove(user);
    if (set.isEmpty) t.byValue.delete(old);
  }

  /** Users with the tag (with this value, when given). Do not change the result. */
  users(tag: string, value?: string): RoaringBitmap32 {
    const t = this.tags.get(tag);
    if (!t) return EMPTY;
    return value === undefined ? t.users : (t.byValue.get(value) ?? EMPTY);
  }

  /** The user's value of the tag: null when tagged without one, undefined when not tagged. */
  valueOf(user: number, tag: string): string | null | undefined {
    const t = this.tags.get(tag);
    if (!t?.users.has(user)) return undefined;
    return t.values.get(user) ?? null;
  }

  /** Every tag of one user, with its value. */
  tagsOf(user: number): Record<string, string | null> {
    const out: Record<string, string | null> = {};
    for (const [tag, t] of this.tags) if (t.users.has(user)) out[tag] = t.values.get(user) ?? null;
    return out;
  }

  /** Tag names and how many users have each. */
  counts(): Array<[string, number]> {
    return [...this.tags].map(([tag, t]) => [tag, t.users.size]);
  }

  /** Moves `from`'s tags to `to` (an identity merge); tags `to` already has keep their value. */
  move(from: number, to: number): void {
    for (const [tag, value] of Object.entries(this.tagsOf(from))) {
      if (this.valueOf(to, tag) === undefined) this.add(to, tag, value);
      this.remove(from, tag);
    }
  }

  drop(user: number): void {
    for (const tag of Object.keys(this.tagsOf(user))) this.remove(user, tag);
  }
}
