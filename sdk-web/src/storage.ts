import type { Store } from './types.js';

/** In-memory store: used when persistence is off or the browser refuses storage. */
export function memoryStore(): Store {
  const m = new Map<string, string>();
  return {
    get: (k) => m.get(k) ?? null,
    set: (k, v) => void m.set(k, v),
    remove: (k) => void m.delete(k),
    keys: (p) => [...m.keys()].filter((k) => k.startsWith(p)),
  };
}

/**
 * Wraps a Web Storage object. Quota errors and disabled storage (private modes, sandboxed
 * frames) must never break the host page, so every failure falls back to memory.
 */
export function webStore(get: () => Storage): Store {
  const mem = memoryStore();
  let s: Storage | undefined;
  try {
    s = get();
    s.setItem('weft:t', '1');
    s.removeItem('weft:t');
  } catch {
    s = undefined;
  }
  if (!s) return mem;
  const ls = s;
  return {
    get: (k) => {
      try {
        return ls.getItem(k) ?? mem.get(k);
      } catch {
        return mem.get(k);
      }
    },
    set: (k, v) => {
      try {
        ls.setItem(k, v);
        mem.remove(k);
      } catch {
        mem.set(k, v);
      }
    },
    remove: (k) => {
      mem.remove(k);
      try {
        ls.removeItem(k);
      } catch {}
    },
    keys: (p) => {
      const out = mem.keys(p);
      try {
        for (let i = 0; i < ls.length; i++) {
          const k = ls.key(i);
          if (k?.startsWith(p) && !out.includes(k)) out.push(k);
        }
      } catch {}
      return out;
    },
  };
}

/** Parses stored JSON, treating corrupt or foreign values as absent. */
export function readJson<T>(store: Store, key: string): T | undefined {
  const raw = store.get(key);
  if (raw == null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}
