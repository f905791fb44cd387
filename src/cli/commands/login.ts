// `faasq login` checks basic-auth credentials against GET /system/info before storing them for
// that gateway; `faasq logout` forgets them.
import { Command } from 'commander';
import { CliError, EXIT_AUTH, usageError } from '../cli-error.js';
import { errorFromResponse } from '../client.js';
import type { CliContext } from '../context.js';

const MAX_PASSWORD_BYTES = 64 * 1024;

export function registerLoginCommands(program: Command, ctx: CliContext): void {
  program
    .command('login')
    .description('check and store credentials for a gateway')
    .option('-u, --username <user>', 'user name', 'admin')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('-s, --password-stdin', 'read the password from stdin')
    .action(async (opts: { username: string; password?: string; passwordStdin?: boolean }) => {
      if (opts.password !== undefined && opts.passwordStdin) throw usageError('use either --password or --password-stdin');
      let password = opts.password;
      if (opts.passwordStdin) password = await readPassword(ctx);
      if (password === undefined) throw usageError('give a password with --password-stdin (or -p)');
      if (password === '') throw usageError('the password is empty');
      if (opts.password !== undefined) ctx.io.stderr.write('warning: --password can end up in shell history; prefer --password-stdin\n');

      const credentials = { user: opts.username, password };
      const client = await ctx.client(credentials);
      const res = await client.send('GET', '/system/info', { headers: { accept: 'application/json' }, isAuthenticated: true });
      if (res.status === 401 || res.status === 403) {
        await res.body.dump();
        throw new CliError(EXIT_AUTH, `invalid credentials for ${client.baseUrl}`);
      }
      if (res.status < 200 || res.status > 299) throw await errorFromResponse(res);
      await res.body.dump();
      const store = ctx.store();
      await store.set(client.baseUrl, credentials);
      ctx.io.stdout.write(`Logged in to ${client.baseUrl} as ${opts.username} (credentials saved in ${store.file}).\n`);
    });

  program
    .command('logout')
    .description('forget the stored credentials for a gateway')
    .action(async () => {
      const url = ctx.gatewayUrl();
      const isRemoved = await ctx.store().remove(url);
      ctx.io.stdout.write(isRemoved ? `Logged out of ${url}.\n` : `No stored credentials for ${url}.\n`);
    });
}

async function readPassword(ctx: CliContext): Promise<string> {
  if (ctx.io.stdin.isTTY) throw usageError('--password-stdin needs the password piped in, e.g. `cat pw | faasq login --password-stdin`');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.io.stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_PASSWORD_BYTES) throw usageError('the password on stdin is too long');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
