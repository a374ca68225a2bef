import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real-browser tests need Debian's Chromium; install it rather than skip them. */
export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/ensure-chromium.sh', import.meta.url));
  try {
    execFileSync('sh', [script], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `Chromium for the browser tests could not be installed (${script}): ${stderr.trim() || (err as Error).message}. ` +
        'Install it with `apt-get install chromium` (it must be at /usr/bin/chromium).',
    );
  }
}
