/**
 * URL of a worker entry next to `base` (an import.meta.url). Workers always run compiled
 * JavaScript: when the caller is a TypeScript source (tests), the dist twin is used.
 */
export function workerUrl(base: string, name: string): URL {
  const url = new URL(`./${name}.js`, base);
  if (base.endsWith('.ts')) url.pathname = url.pathname.replace('/src/', '/dist/');
  return url;
}
