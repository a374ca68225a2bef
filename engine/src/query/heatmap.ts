import type { ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { segmentUsers } from './segment.js';
import { compileSpec, forEachMatchingRow } from './step.js';
import type { WhereClause } from './where.js';

/** A heatmap request after the edge resolved times (DESIGN §5, §6). */
export interface HeatmapQuery {
  /** The page: `$url` equal to url, or `$path` equal to path. */
  url?: string;
  path?: string;
  from: number;
  to: number;
  /** Viewport width bucket on `$vw`: [min, max). */
  viewport?: { min?: number; max?: number };
  /** Columns of the grid; cells are square, (document width / grid) px on a side. */
  grid: number;
  users?: string[];
}

/** Cells [x, y, count], elements [selector, clicks, users, rage clicks], scroll histogram of max depth 0..100. */
export interface HeatmapPartial {
  cells: Array<[number, number, number]>;
  elements: Array<[string, number, number, number]>;
  clicks: number;
  rage: number;
  scrollMax: number[];
}

export interface HeatmapResponse {
  clicks: number;
  rage_clicks: number;
  cells: Array<{ x: number; y: number; count: number }>;
  elements: Array<{ selector: string; count: number; users: number; rage: number }>;
  scroll: Array<{ depth: number; users: number }>;
}

export const SCROLL_STEP = 10;

function pageWhere(q: HeatmapQuery): WhereClause[] {
  const where: WhereClause[] =
    q.url !== undefined ? [{ prop: '$url', value: q.url }] : [{ prop: '$path', value: q.path ?? '' }];
  if (q.viewport?.min !== undefined) where.push({ prop: '$vw', op: 'gte', value: q.viewport.min });
  if (q.viewport?.max !== undefined) where.push({ prop: '$vw', op: 'lt', value: q.viewport.max });
  return where;
}

/** The grid cell of a click: column floor(x * grid / dw), row floor(y * grid / dw); null when unplaceable. */
export function cellOf(x: unknown, y: unknown, dw: unknown, grid: number): [number, number] | null {
  if (typeof x !== 'number' || typeof y !== 'number' || typeof dw !== 'number' || dw <= 0) return null;
  if (x < 0 || y < 0) return null;
  return [Math.min(grid - 1, Math.floor((x * grid) / dw)), Math.floor((y * grid) / dw)];
}

/**
 * One shard's share of a heatmap: `$click` events on the page and viewport bucket, counted
 * per grid cell and per element selector (with distinct users and rage clicks), and per user
 * the deepest `$scroll_depth` of their `$pageleave` events there.
 */
export function heatmapPartial(index: ProjectIndex, q: HeatmapQuery): HeatmapPartial {
  const where = pageWhere(q);
  const segment = segmentUsers(index, q.users);
  const userCol = index.user.data;
  const key = (name: string) => index.values.find(name);
  const [kx, ky, kdw, ksel, krage, kdepth] = [
    '$x',
    '$y',
    '$dw',
    '$el_selector',
    '$rage',
    '$scroll_depth',
  ].map(key);
  const value = (row: number, k: number | undefined) => {
    const vid = k === undefined || k < 0 ? -1 : index.propValueId(row, k);
    return vid < 0 ? undefined : index.values.get(vid);
  };
  const cells = new Map<number, number>();
  const elements = new Map<string, { count: number; users: RoaringBitmap32; rage: number }>();
  let clicks = 0;
  let rage = 0;
  const cols = q.grid;
  forEachMatchingRow(index, compileSpec(index, { event: '$click', where }), q.from, q.to, (row) => {
    const user = userCol[row]!;
    if (segment && !segment.has(user)) return;
    clicks++;
    const isRage = value(row, krage) === true;
    if (isRage) rage++;
    const cell = cellOf(value(row, kx), value(row, ky), value(row, kdw), cols);
    if (cell) {
      const k = cell[1] * cols + cell[0];
      cells.set(k, (cells.get(k) ?? 0) + 1);
    }
    const selector = value(row, ksel);
    if (typeof selector === 'string') {
      let e = elements.get(selector);
      if (!e) elements.set(selector, (e = { count: 0, users: new RoaringBitmap32(), rage: 0 }));
      e.count++;
      e.users.add(user);
      if (isRage) e.rage++;
    }
  });
  const deepest = new Map<number, number>();
  forEachMatchingRow(index, compileSpec(index, { event: '$pageleave', where }), q.from, q.to, (row) => {
    const user = userCol[row]!;
    if (segment && !segment.has(user)) return;
    const depth = value(row, kdepth);
    if (typeof depth !== 'number' || !(depth >= 0)) return;
    const d = Math.min(100, Math.floor(depth));
    if ((deepest.get(user) ?? -1) < d) deepest.set(user, d);
  });
  const scrollMax = new Array<number>(101).fill(0);
  for (const d of deepest.values()) scrollMax[d]!++;
  return {
    cells: [...cells].map(([k, count]) => [k % cols, Math.floor(k / cols), count]),
    elements: [...elements].map(([sel, e]) => [sel, e.count, e.users.size, e.rage]),
    clicks,
    rage,
    scrollMax,
  };
}

export function mergeHeatmap(partials: readonly HeatmapPartial[]): HeatmapResponse {
  const cells = new Map<string, { x: number; y: number; count: number }>();
  const elements = new Map<string, { selector: string; count: number; users: number; rage: number }>();
  const scrollMax = new Array<number>(101).fill(0);
  let clicks = 0;
  let rage = 0;
  for (const p of partials) {
    clicks += p.clicks;
    rage += p.rage;
    for (const [x, y, count] of p.cells) {
      const c = cells.get(`${x},${y}`);
      if (c) c.count += count;
      else cells.set(`${x},${y}`, { x, y, count });
    }
    for (const [selector, count, users, r] of p.elements) {
      const e = elements.get(selector);
      if (e) {
        e.count += count;
        e.users += users;
        e.rage += r;
      } else elements.set(selector, { selector, count, users, rage: r });
    }
    for (let d = 0; d <= 100; d++) scrollMax[d]! += p.scrollMax[d]!;
  }
  const scroll: HeatmapResponse['scroll'] = [];
  let reached = 0;
  for (let d = 100; d >= 0; d--) {
    reached += scrollMax[d]!;
    if (d % SCROLL_STEP === 0) scroll.push({ depth: d, users: reached });
  }
  scroll.reverse();
  return {
    clicks,
    rage_clicks: rage,
    cells: [...cells.values()].sort((a, b) => b.count - a.count || a.y - b.y || a.x - b.x),
    elements: [...elements.values()].sort(
      (a, b) => b.count - a.count || (a.selector < b.selector ? -1 : a.selector > b.selector ? 1 : 0),
    ),
    scroll,
  };
}
