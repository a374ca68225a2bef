import { startWeft } from './server.js';

/** `npm start`: the server on embedded defaults (or the environment's settings). */
async function main(): Promise<void> {
  const weft = await startWeft();
  const { config } = weft;
  process.stdout.write(
    [
      `Weft listening on ${weft.url}`,
      `  data dir:   ${config.dataDir} (${config.shards} shards, fsync ${config.fsync})`,
      `  write key:  ${weft.writeKey}   (ingest: X-Write-Key)`,
      `  secret key: ${weft.secretKey}   (queries: Authorization: Bearer …)`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: snapshotting and stopping\n`);
    weft.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: Error) => {
  console.error(`weft: ${err.message}`);
  process.exit(1);
});
