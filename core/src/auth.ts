/** One project's keys: the write key is public (ingest only), the secret key is for everything else. */
export interface ProjectKeys {
  project: string;
  writeKey: string;
  secretKey: string;
}

export interface KeyResolver {
  projectForWriteKey(key: string): string | undefined;
  projectForSecretKey(key: string): string | undefined;
}

/** Resolves keys from a fixed list, e.g. the embedded default project. */
export class StaticKeys implements KeyResolver {
  private readonly byWrite = new Map<string, string>();
  private readonly bySecret = new Map<string, string>();

  constructor(readonly projects: readonly ProjectKeys[]) {
    for (const p of projects) {
      this.byWrite.set(p.writeKey, p.project);
      this.bySecret.set(p.secretKey, p.project);
    }
  }

  projectForWriteKey(key: string): string | undefined {
    return this.byWrite.get(key);
  }

  projectForSecretKey(key: string): string | undefined {
    return this.bySecret.get(key);
  }
}
