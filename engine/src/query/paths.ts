import { u32 } from '../index/growable.js';
import type { ProjectIndex } from '../index/project-index.js';
import { segmentUsers } from './segment.js';
import { type CompiledSpec, compileSpec, type EventSpec, matchingUsers, rowMatches } from './step.js';

/** A paths request after the edge resolved times (DESIGN §5, §6). */
export interface PathsQuery {
  /** Paths begin at the first occurrence of this event in each session… */
  start?: EventSpec;
  /** …or end at the first occurrence of this one (steps then count back: 0, -1, …). */
  end?: EventSpec;
  /** Nodes per path, the anchor included. */
  depth: number;
  from: number;
  to: number;
  /** A gap longer than this (ms), or a change of session id, starts a new session. */
  sessionGap: number;
  /** Events kept per step; the rest fold into "$other". */
  top: number;
  users?: string[];
  /** Second pass: per step index (0 = the anchor), the event names kept. */
  keep?: string[][];
}

/** First pass: nodes [step index, event, users]. Second pass adds links [step index of target, source, target, users]. */
export interface PathsPartial {
  nodes: Array<[number, string, number]>;
  links: Array<[number, string, string, number]>;
}

export interface PathsResponse {
  nodes: Array<{ id: string; step: number; event: string; users: number }>;
  links: Array<{ source: string; target: string; users: number }>;
}

export const OTHER_EVENT = '$other';

/**
 * One shard's share of a path analysis. Per session (split by session id and by gaps), the
 * events from the anchor on (or up to it), consecutive repeats collapsed, cut at `depth`;
 * nodes (step, event) and links count distinct users.
 */
export function pathsPartial(index: ProjectIndex, q: PathsQuery): PathsPartial {
  const anchorSpec = q.start ?? q.end;
  const anchor: CompiledSpec | null = anchorSpec ? compileSpec(index, anchorSpec) : null;
  const backward = q.start === undefined && q.end !== undefined;
  const segment = segmentUsers(index, q.users);
  const depth = q.depth;
  const width = index.values.size + 1;
  const keep = q.keep?.map((names) => new Set(names.map((n) => index.values.find(n))));
  const fold = (step: number, ev: number): number => (keep === undefined || keep[step]!.has(ev) ? ev : -1);
  const nodeKey = (step: number, ev: number): number => step * width + ev + 1;
  const nodeUsers = new Map<number, number>();
  const linkUsers = new Map<number, number>();
  const userNodes = new Set<number>();
  const userLinks = new Set<number>();
  const path = new Int32Array(depth);
  const scratch = u32(256);
  const times = index.time.data;
  const events = index.event.data;
  const sessions = index.session.data;

  const visitUser = (user: number): void => {
    const n = index.timelines.read(user, scratch);
    const rows = scratch.data;
    userNodes.clear();
    userLinks.clear();
    let i = 0;
    while (i < n && times[rows[i]!]! < q.from) i++;
    while (i < n && times[rows[i]!]! < q.to) {
      // [i, j) is one session.
      let j = i + 1;
      while (
        j < n &&
        times[rows[j]!]! < q.to &&
        times[rows[j]!]! - times[rows[j - 1]!]! <= q.sessionGap &&
        sessions[rows[j]!] === sessions[rows[j - 1]!]
      ) {
        j++;
      }
      let a = i;
      if (anchor !== null) while (a < j && !rowMatches(index, anchor, rows[a]!)) a++;
      if (a < j) {
        let len = 0;
        const stepDir = backward ? -1 : 1;
        const stop = backward ? i - 1 : j;
        for (let r = a; r !== stop && len < depth; r += stepDir) {
          const ev = events[rows[r]!]!;
          if (len > 0 && path[len - 1] === ev) continue;
          path[len++] = ev;
        }
        let prev = -1;
        for (let s = 0; s < len; s++) {
          const node = nodeKey(s, fold(s, path[s]!));
          userNodes.add(node);
          if (keep !== undefined && s > 0) userLinks.add(prev * width * depth + node);
          prev = node;
        }
      }
      i = j;
    }
    for (const k of userNodes) nodeUsers.set(k, (nodeUsers.get(k) ?? 0) + 1);
    for (const k of userLinks) linkUsers.set(k, (linkUsers.get(k) ?? 0) + 1);
  };

  if (anchor !== null) {
    const users = matchingUsers(index, anchor, q.from, q.to);
    if (segment) users.andInPlace(segment);
    for (const u of users) visitUser(u);
  } else {
    for (let u = 0; u < index.names.length; u++) {
      if (index.names[u] !== '' && (segment === null || segment.has(u))) visitUser(u);
    }
  }

  const name = (ev: number): string => (ev < 0 ? OTHER_EVENT : (index.values.get(ev) as string));
  const decode = (key: number): [number, number] => [Math.floor(key / width), (key % width) - 1];
  const out: PathsPartial = { nodes: [], links: [] };
  for (const [key, users] of nodeUsers) {
    const [step, ev] = decode(key);
    out.nodes.push([step, name(ev), users]);
  }
  for (const [key, users] of linkUsers) {
    const [step, source] = decode(Math.floor(key / (width * depth)));
    const [, target] = decode(key % (width * depth));
    out.links.push([step + 1, name(source), name(target), users]);
  }
  return out;
}

/** After the first pass: per step index, the `top` events with the most users. */
export function topPathEvents(q: PathsQuery, partials: readonly PathsPartial[]): string[][] {
  const perStep = Array.from({ length: q.depth }, () => new Map<string, number>());
  for (const p of partials) {
    for (const [step, ev, users] of p.nodes) perStep[step]!.set(ev, (perStep[step]!.get(ev) ?? 0) + users);
  }
  return perStep.map((m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, q.top)
      .map(([ev]) => ev),
  );
}

/** Adds the second-pass partials into nodes and links for a Sankey diagram. */
export function mergePaths(q: PathsQuery, partials: readonly PathsPartial[]): PathsResponse {
  const sign = q.start === undefined && q.end !== undefined ? -1 : 1;
  const id = (step: number, ev: string) => `${sign * step}:${ev}`;
  const nodes = new Map<string, { id: string; step: number; event: string; users: number }>();
  const links = new Map<string, { source: string; target: string; users: number }>();
  for (const p of partials) {
    for (const [step, event, users] of p.nodes) {
      const key = id(step, event);
      const n = nodes.get(key);
      if (n) n.users += users;
      else nodes.set(key, { id: key, step: sign * step, event, users });
    }
    for (const [step, source, target, users] of p.links) {
      const s = id(step - 1, source);
      const t = id(step, target);
      const key = `${s}\u0000${t}`;
      const l = links.get(key);
      if (l) l.users += users;
      else links.set(key, { source: sign > 0 ? s : t, target: sign > 0 ? t : s, users });
    }
  }
  const byStep = (a: { step: number; users: number; id: string }, b: typeof a) =>
    Math.abs(a.step) - Math.abs(b.step) || b.users - a.users || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    nodes: [...nodes.values()].sort(byStep),
    links: [...links.values()].sort(
      (a, b) => b.users - a.users || (a.source + a.target < b.source + b.target ? -1 : 1),
    ),
  };
}
