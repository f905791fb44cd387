// The outside tools some suites need, got before the tests run so `npm test` works on a fresh
// machine: nats-server (the JetStream suites; fetched into .tools/ without touching the system),
// Debian's chromium (the dashboard suites), bubblewrap and slirp4netns (the function sandbox
// suites; slirp4netns, with iproute2, for the sandbox's outbound network), all through apt-get
// when missing and the user is root (or has password-less sudo).
// Each install says what it does in one line; its own output goes to .tmp/test-tools.log.
// What cannot be had is returned with the reason, so those suites skip saying why.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The tools, each with the check that says it is there and the suites that need it. */
export const TOOLS = {
  nats: { what: 'nats-server 2.10', suites: 'the JetStream suites' },
  chromium: { what: "Debian's chromium", suites: 'the dashboard suites', binary: '/usr/bin/chromium', apt: ['chromium', 'fonts-liberation'] },
  bwrap: { what: 'bubblewrap', suites: 'the function sandbox suites', binary: '/usr/bin/bwrap', apt: ['bubblewrap'] },
  slirp4netns: { what: 'slirp4netns', suites: "the sandbox's outbound network suites", binary: '/usr/bin/slirp4netns', apt: ['slirp4netns', 'iproute2'] },
};

function natsPresent(root) {
  const fromEnv = process.env.FAASQ_NATS_SERVER_BIN;
  if (fromEnv) return existsSync(fromEnv);
  const tools = path.join(root, '.tools');
  if (!existsSync(tools)) return false;
  return readdirSync(tools).some((d) => d.startsWith('nats-server-2.10.') && existsSync(path.join(tools, d, 'usr/sbin/nats-server')));
}

function run(log, command, args, cwd) {
  appendFileSync(log, `\n$ ${command} ${args.join(' ')}\n`);
  const res = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  appendFileSync(log, `${res.stdout ?? ''}${res.stderr ?? ''}`);
  if (res.error) return `${command} could not run (${res.error.code ?? res.error.message})`;
  return res.status === 0 ? undefined : `${command} ${args[args.length - 1]} exited ${res.status}`;
}

/** How apt-get can be run here: as root directly, through password-less sudo, or not at all. */
function aptRunner() {
  if (!existsSync('/usr/bin/apt-get')) return { why: 'apt-get is not on this machine' };
  if (process.getuid?.() === 0) return { prefix: [] };
  const sudo = spawnSync('sudo', ['-n', 'true']);
  if (sudo.status === 0) return { prefix: ['sudo', '-n'] };
  return { why: 'apt-get needs root, and this user is not root and has no password-less sudo' };
}

/**
 * Installs what is missing where it can. Returns { tool: reason } for each tool still missing.
 * `say` prints one line per action.
 */
export function ensureTools(root, say) {
  const logDir = path.join(root, '.tmp');
  mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, 'test-tools.log');
  const missing = {};

  if (!natsPresent(root)) {
    say(`installing ${TOOLS.nats.what} into .tools/ for ${TOOLS.nats.suites} (Debian's package, unpacked; the system is not changed)`);
    const failed = run(log, 'bash', [path.join(root, 'scripts/install-nats-server.sh'), '2.10'], root);
    if (failed || !natsPresent(root)) missing.nats = `${TOOLS.nats.what} could not be fetched (${failed ?? 'no binary after the install'}; see .tmp/test-tools.log)`;
  }

  const aptTools = ['chromium', 'bwrap', 'slirp4netns'].filter((t) => !existsSync(TOOLS[t].binary));
  if (aptTools.length > 0) {
    const runner = aptRunner();
    const packages = aptTools.flatMap((t) => TOOLS[t].apt);
    if (runner.why) {
      for (const t of aptTools) missing[t] = `${TOOLS[t].what} is missing: ${runner.why}`;
    } else {
      say(`installing Debian packages ${packages.join(', ')} with apt-get for ${aptTools.map((t) => TOOLS[t].suites).join(' and ')}`);
      const apt = (...tail) => {
        const [cmd, ...args] = [...runner.prefix, 'apt-get', ...tail];
        return run(log, cmd, args, root);
      };
      const failed = apt('update', '-q') ?? apt('install', '-y', '-q', '--no-install-recommends', ...packages);
      for (const t of aptTools) {
        if (!existsSync(TOOLS[t].binary)) missing[t] = `${TOOLS[t].what} could not be installed (${failed ?? 'not there after apt-get'}; see .tmp/test-tools.log)`;
      }
    }
  }
  return missing;
}
