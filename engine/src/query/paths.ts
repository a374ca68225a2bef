import type { ProjectIndex } from '../index/project-index.js';
import { TimelineBuffer } from '../index/timelines.js';
import { ValueTable } from '../index/value-table.js';
import { matchingUsers } from './period-users.js';
import { segmentUsers } from './segment.js';
import { type CompiledSpec, compileSpec, type EventSpec } from './step.js';

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

/** Room for link endpoints: nodes after folding are at most depth (10) x kept events (top 100 + other). */
const LINK_NODES = 1 << 16;

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
  // Links pair nodes by small per-query numbers: node keys grow with the values interned on the
  // shard, and a product of two of them passes 2^53 at scale. Links are counted only once events
  // are folded to the kept ones, so there are few nodes.
  const linkNode = new Map<number, number>();
  const linkNodes: number[] = [];
  const linkId = (node: number): number => {
    let id = linkNode.get(node);
    if (id === undefined) {
      id = linkNodes.push(node) - 1;
      linkNode.set(node, id);
    }
    return id;
  };
  const nodeUsers = new Map<number, number>();
  const linkUsers = new Map<number, number>();
  const userNodes = new Set<number>();
  const userLinks = new Set<number>();
  const path = new Int32Array(depth);
  const tl = new TimelineBuffer();

  const visitUser = (user: number): void => {
    index.timelines.readColumns(user, tl);
    orderTies(index, tl);
    const { rows, times, events, sessions, to: n } = tl;
    userNodes.clear();
    userLinks.clear();
    let i = tl.from;
    while (i < n && times[i]! < q.from) i++;
    while (i < n && times[i]! < q.to) {
      // [i, j) is one session.
      let j = i + 1;
      while (
        j < n &&
        times[j]! < q.to &&
        times[j]! - times[j - 1]! <= q.sessionGap &&
        sessions[j] === sessions[j - 1]
      ) {
        j++;
      }
      let a = i;
      if (anchor !== null) {
        while (a < j && !(events[a] === anchor.ev && (anchor.where === null || anchor.where(rows[a]!)))) a++;
      }
      if (a < j) {
        let len = 0;
        const stepDir = backward ? -1 : 1;
        const stop = backward ? i - 1 : j;
        for (let r = a; r !== stop && len < depth; r += stepDir) {
          const ev = events[r]!;
          if (len > 0 && path[len - 1] === ev) continue;
          path[len++] = ev;
        }
        let prev = -1;
        for (let s = 0; s < len; s++) {
          const node = nodeKey(s, fold(s, path[s]!));
          userNodes.add(node);
          if (keep !== undefined) {
            const id = linkId(node);
            if (s > 0) userLinks.add(prev * LINK_NODES + id);
            prev = id;
          }
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
    const [step, source] = decode(linkNodes[Math.floor(key / LINK_NODES)]!);
    const [, target] = decode(linkNodes[key % LINK_NODES]!);
    out.links.push([step + 1, name(source), name(target), users]);
  }
  return out;
}

/** Orders events with equal times by event name, then session id, so paths do not depend on arrival order. */
function orderTies(index: ProjectIndex, tl: TimelineBuffer): void {
  for (let i = tl.from; i < tl.to; ) {
    let j = i + 1;
    while (j < tl.to && tl.times[j] === tl.times[i]) j++;
    if (j - i > 1) {
      const at = i - tl.from;
      tl.own();
      sortRun(index, tl, tl.from + at, tl.from + at + (j - i));
      j = tl.from + at + (j - i);
    }
    i = j;
  }
}

function sortRun(index: ProjectIndex, tl: TimelineBuffer, from: number, to: number): void {
  const name = (id: number) => (id === ValueTable.NULL ? '' : (index.values.get(id) as string));
  const run = [];
  for (let k = from; k < to; k++) {
    run.push({
      row: tl.rows[k]!,
      event: tl.events[k]!,
      session: tl.sessions[k]!,
      key: [name(tl.events[k]!), name(tl.sessions[k]!)] as const,
    });
  }
  run.sort((a, b) => compare(a.key[0], b.key[0]) || compare(a.key[1], b.key[1]));
  run.forEach((e, k) => {
    tl.rows[from + k] = e.row;
    tl.events[from + k] = e.event;
    tl.sessions[from + k] = e.session;
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
      // `|| 0`: walking back, the anchor's step would be -0.
      else nodes.set(key, { id: key, step: sign * step || 0, event, users });
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
