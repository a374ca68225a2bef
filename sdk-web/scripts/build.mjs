// Builds the browser bundles with esbuild after a strict type check, prints raw and gzip
// sizes, and fails when the core script is over its budget (DESIGN §9).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
export const CORE_BUDGET_GZIP = 15 * 1024;

/** The browser targets of the script tag: what supports fetch keepalive, sendBeacon and optional catch. */
const BROWSERS = ['chrome80', 'firefox78', 'safari13', 'edge80'];

export async function buildAll({ typecheck = true, quiet = false } = {}) {
  if (typecheck) {
    rmSync(join(dist, 'types'), { recursive: true, force: true });
    execFileSync(process.execPath, [join(root, '../node_modules/typescript/bin/tsc'), '-p', root], {
      stdio: 'inherit',
    });
  }
  const common = { bundle: true, legalComments: 'none', logLevel: 'warning', absWorkingDir: root };
  await Promise.all([
    build({
      ...common,
      entryPoints: ['src/global.ts'],
      outfile: 'dist/weft.min.js',
      format: 'iife',
      minify: true,
      target: BROWSERS,
    }),
    build({
      ...common,
      entryPoints: ['src/definition/mode.ts'],
      outfile: 'dist/weft-define.js',
      format: 'iife',
      minify: true,
      target: BROWSERS,
    }),
    build({
      ...common,
      entryPoints: ['src/index.ts'],
      outfile: 'dist/weft.mjs',
      format: 'esm',
      target: 'es2020',
    }),
    build({
      ...common,
      entryPoints: ['src/miniprogram/index.ts'],
      outfile: 'dist/weft-miniprogram.mjs',
      format: 'esm',
      target: 'es2017',
    }),
    build({
      ...common,
      entryPoints: ['src/miniprogram/index.ts'],
      outfile: 'dist/weft-miniprogram.cjs',
      format: 'cjs',
      target: 'es2017',
    }),
  ]);
  const sizes = {};
  for (const f of [
    'weft.min.js',
    'weft-define.js',
    'weft.mjs',
    'weft-miniprogram.mjs',
    'weft-miniprogram.cjs',
  ]) {
    const buf = readFileSync(join(dist, f));
    sizes[f] = { raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
    if (!quiet)
      console.log(`${f.padEnd(24)} ${fmt(sizes[f].raw).padStart(9)}  gzip ${fmt(sizes[f].gzip).padStart(8)}`);
  }
  return sizes;
}

const fmt = (n) => `${(n / 1024).toFixed(2)} KB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildAll();
  const core = sizes['weft.min.js'].gzip;
  if (core > CORE_BUDGET_GZIP) {
    console.error(`weft.min.js is ${fmt(core)} gzip, over the ${fmt(CORE_BUDGET_GZIP)} budget`);
    process.exit(1);
  }
  console.log(`core within budget: ${fmt(core)} of ${fmt(CORE_BUDGET_GZIP)} gzip`);
}
