// Where `faasq login` keeps basic-auth credentials, one entry per gateway URL, in
// <configDir>/config.json with mode 0600 (like faas-cli's ~/.openfaas/config.yml).
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writePrivateFileAtomically } from '../shared/private-files.js';
import type { Credentials } from './client.js';

interface StoredAuth {
  /** base64("user:password"), the faas-cli format. */
  token: string;
}

interface StoreFile {
  auths: Record<string, StoredAuth>;
}

export interface CredentialsStore {
  readonly file: string;
  get(gatewayUrl: string): Promise<Credentials | undefined>;
  set(gatewayUrl: string, credentials: Credentials): Promise<void>;
  /** One write for several URLs of the same gateway (127.0.0.1 and localhost). */
  setMany(gatewayUrls: readonly string[], credentials: Credentials): Promise<void>;
  /** Returns whether an entry was removed. */
  remove(gatewayUrl: string): Promise<boolean>;
}

export function createCredentialsStore(configDir: string): CredentialsStore {
  const file = path.join(configDir, 'config.json');

  const read = async (): Promise<StoreFile> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { auths: {} };
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<StoreFile>;
    return { ...parsed, auths: parsed.auths ?? {} };
  };

  const write = async (data: StoreFile): Promise<void> => {
    await mkdir(configDir, { recursive: true, mode: 0o700 });
    // A crash never leaves a half-written file; two gateways starting at once each write their own temp file.
    await writePrivateFileAtomically(file, JSON.stringify(data, null, 2) + '\n');
  };

  const setMany = async (gatewayUrls: readonly string[], credentials: Credentials): Promise<void> => {
    const data = await read();
    const token = Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64');
    for (const url of gatewayUrls) data.auths[url] = { token };
    await write(data);
  };

  return {
    file,
    async get(gatewayUrl) {
      const entry = (await read()).auths[gatewayUrl];
      if (!entry) return undefined;
      const decoded = Buffer.from(entry.token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) return undefined;
      return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    },
    set: (gatewayUrl, credentials) => setMany([gatewayUrl], credentials),
    setMany,
    async remove(gatewayUrl) {
      const data = await read();
      if (!(gatewayUrl in data.auths)) return false;
      delete data.auths[gatewayUrl];
      await write(data);
      return true;
    },
  };
}
