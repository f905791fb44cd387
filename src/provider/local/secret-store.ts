// Secrets as files under <secretsDir>/<namespace>/<name> (mode 0600). A function's secrets are
// linked into its own folder, <secretsDir>/.mounts/<namespace>/<function>/, which the process
// finds through env `secret_mount_path` (and FAASQ_SECRETS_PATH). OpenFaaS mounts them at
// /var/openfaas/secrets/<name>, a path a non-root local process cannot be given.
import { mkdir, readdir, rm, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { FaasqError } from '../../shared/errors.js';
import { writePrivateFileAtomically } from '../../shared/private-files.js';
import type { SecretInput } from '../provider.js';

const MOUNTS = '.mounts';
const SECRET_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9_.]{0,252}$/;

export interface SecretStore {
  list(namespace: string): Promise<{ name: string; namespace: string }[]>;
  put(secret: SecretInput, options: { create: boolean }): Promise<void>;
  remove(name: string, namespace: string): Promise<void>;
  /** Links the named secrets into the function's folder and returns it; E_DEPLOY_FAILED naming a missing one. */
  mount(fn: string, namespace: string, names: readonly string[]): Promise<string>;
  unmount(fn: string, namespace: string): Promise<void>;
  /** The named secrets' files, for copying into a sandbox; E_DEPLOY_FAILED naming a missing one. */
  files(namespace: string, names: readonly string[]): Promise<{ name: string; file: string }[]>;
}

export function createSecretStore(secretsDir: string): SecretStore {
  const fileOf = (name: string, namespace: string): string => {
    if (!SECRET_NAME.test(name)) throw new FaasqError('E_INVALID_FIELD', `invalid secret name "${name}"`, { detail: { field: 'name' } });
    if (!SECRET_NAME.test(namespace)) throw new FaasqError('E_INVALID_FIELD', `invalid namespace "${namespace}"`, { detail: { field: 'namespace' } });
    return path.join(secretsDir, namespace, name);
  };
  const mountDir = (fn: string, namespace: string): string => path.join(secretsDir, MOUNTS, namespace, fn);
  const exists = async (file: string): Promise<boolean> => {
    try {
      await stat(file);
      return true;
    } catch {
      return false;
    }
  };
  return {
    async list(namespace) {
      if (!SECRET_NAME.test(namespace)) return [];
      let names: string[];
      try {
        names = await readdir(path.join(secretsDir, namespace));
      } catch {
        return [];
      }
      return names.filter((n) => SECRET_NAME.test(n)).sort().map((name) => ({ name, namespace }));
    },
    async put(secret, { create }) {
      const file = fileOf(secret.name, secret.namespace);
      const isPresent = await exists(file);
      if (create && isPresent) throw new FaasqError('E_CONFLICT', `secret "${secret.name}" already exists in namespace "${secret.namespace}"`);
      if (!create && !isPresent) throw new FaasqError('E_SECRET_NOT_FOUND', `secret "${secret.name}" not found in namespace "${secret.namespace}"`);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      // A function following its link, or a copy being made, never reads half a value.
      await writePrivateFileAtomically(file, secret.value);
    },
    async remove(name, namespace) {
      try {
        await unlink(fileOf(name, namespace));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FaasqError('E_SECRET_NOT_FOUND', `secret "${name}" not found in namespace "${namespace}"`);
        throw err;
      }
    },
    async mount(fn, namespace, names) {
      const dir = mountDir(fn, namespace);
      for (const name of names) {
        if (!(await exists(fileOf(name, namespace)))) throw new FaasqError('E_DEPLOY_FAILED', `secret "${name}" not found in namespace "${namespace}"`, { detail: { secret: name } });
      }
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // Links, not copies: a secret updated through the API is seen by running functions.
      for (const name of names) await symlink(fileOf(name, namespace), path.join(dir, name));
      return dir;
    },
    async files(namespace, names) {
      const out: { name: string; file: string }[] = [];
      for (const name of names) {
        const file = fileOf(name, namespace);
        if (!(await exists(file))) throw new FaasqError('E_DEPLOY_FAILED', `secret "${name}" not found in namespace "${namespace}"`, { detail: { secret: name } });
        out.push({ name, file });
      }
      return out;
    },
    async unmount(fn, namespace) {
      await rm(mountDir(fn, namespace), { recursive: true, force: true });
    },
  };
}
