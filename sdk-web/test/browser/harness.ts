import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { buildAll } from '../../scripts/build.mjs';
import { dashboardPage, hashedPage, perfPage, plainPage, spaPage } from './pages.js';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';

export interface TimelineEvent {
  event: string;
  time: number;
  properties: Record<string, unknown>;
}

/** A real Weft server (ingest, engine, query API) in this process, on a fresh data dir. */
export async function startCollector() {
  const { startWeft } = await import('@weft/engine');
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-sdk-'));
  const weft = await startWeft({ dataDir, port: 0, shards: 1, logLevel: 'silent' });
  const timeline = async (distinctId: string): Promise<TimelineEvent[]> => {
    const r = await fetch(`${weft.url}/v1/users/${encodeURIComponent(distinctId)}/timeline`, {
      headers: { authorization: `Bearer ${weft.secretKey}` },
    });
    if (r.status === 404) return [];
    if (!r.ok) throw new Error(`timeline ${r.status}: ${await r.text()}`);
    return ((await r.json()) as { events: TimelineEvent[] }).events;
  };
  return {
    url: weft.url,
    writeKey: weft.writeKey,
    secretKey: weft.secretKey,
    timeline,
    /** Waits until the timeline holds at least `min` events and stops growing, then returns it. */
    async settled(distinctId: string, min: number, timeoutMs = 15_000): Promise<TimelineEvent[]> {
      const deadline = Date.now() + timeoutMs;
      let last: TimelineEvent[] = [];
      let stableSince = 0;
      while (Date.now() < deadline) {
        const now = await timeline(distinctId);
        if (now.length !== last.length) stableSince = Date.now();
        last = now;
        if (last.length >= min && Date.now() - stableSince >= 700) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      return last;
    },
    async close() {
      await weft.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type Collector = Awaited<ReturnType<typeof startCollector>>;

/** Serves the test pages and the built bundles; `init` is what each page passes to `weft.init`. */
export async function startSite(init: Record<string, unknown>) {
  const requests: string[] = [];
  const site = {
    init,
    requests,
    origin: '',
    head: () =>
      `<script src="/weft.min.js"></script><script>weft.init(${JSON.stringify(site.init)});</script>`,
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const html = (body: string) =>
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    if (path === '/weft.min.js' || path === '/weft-define.js')
      return res
        .writeHead(200, { 'content-type': 'text/javascript' })
        .end(readFileSync(join(dist, path.slice(1))));
    if (path === '/plain.html') return html(plainPage(site.head(), 'Plain', '/plain2.html'));
    if (path === '/plain2.html') return html(plainPage(site.head(), 'Second', '/plain.html'));
    if (path.startsWith('/spa/')) return html(spaPage(site.head()));
    if (path === '/hashed.html') return html(hashedPage(site.head()));
    if (path === '/perf.html') return html(perfPage(site.head()));
    res.writeHead(404).end();
  });
  site.origin = await listen(server);
  return Object.assign(site, { close: () => close(server) });
}

/** A second origin playing the dashboard that opens a page in definition mode. */
export async function startDashboard(target: string) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(dashboardPage(target));
  });
  return { origin: await listen(server), close: () => close(server) };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: run sdk-web/scripts/ensure-chromium.sh (apt-get install chromium)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Builds the bundles the pages load (esbuild only; the type check is the build script's job). */
export function buildBundles() {
  return buildAll({ typecheck: false, quiet: true });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
