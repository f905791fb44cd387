// A TCP proxy in front of a real nats-server that drops, holds back or diverts chosen client
// publishes: the frames a client sends (PUB/HPUB) whose subject matches a rule while the rule is
// on vanish (or arrive late, on release()), as if the server that should answer them were frozen,
// or go to a subject where the test answers them as a stream leader would. Everything else passes byte for byte, both ways.
// Faults are injected at the protocol, so faasq runs unchanged against a real server.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface NatsFaultProxy {
  /** nats://127.0.0.1:<port> of the proxy. */
  readonly url: string;
  /** Drops client publishes whose subject matches until cleared; returns how many it dropped so far. */
  drop(subject: RegExp): { readonly count: number };
  /** Holds back client publishes whose subject matches (as a frozen server would) until release(). */
  hold(subject: RegExp): { readonly count: number };
  /**
   * Sends client publishes whose subject matches, and whose Nats-Msg-Id passes `msgId`, to subject
   * `to` instead (reply subject kept), where the test answers them as the stream's leader would.
   * With `isAlsoStored` the publish reaches its stream as well, with its reply going nowhere.
   */
  divert(subject: RegExp, to: string, options?: { msgId?: (id: string) => boolean; isAlsoStored?: boolean }): { readonly count: number };
  /** Stops dropping, holding and diverting; held publishes stay held. */
  clear(): void;
  /** Sends the held publishes on, late (as a server that thaws would process them). */
  release(): void;
  close(): Promise<void>;
}

const CRLF = Buffer.from('\r\n');

interface Rule {
  readonly subject: RegExp;
  readonly action: 'drop' | 'hold' | 'divert';
  readonly to?: string;
  readonly msgId?: (id: string) => boolean;
  readonly isAlsoStored?: boolean;
  count: number;
}

/** The Nats-Msg-Id header of a PUB/HPUB frame ('' without one). */
function msgIdOf(frame: Buffer): string {
  return /\r\nNats-Msg-Id: ([^\r]*)\r\n/i.exec(frame.toString('latin1'))?.[1] ?? '';
}

/** The frame with its subject or reply subject replaced (the sizes count only headers and payload). */
function withHead(frame: Buffer, eol: number, line: string, change: { subject?: string; reply?: string }): Buffer {
  const parts = line.split(' ').filter(Boolean);
  const sizes = parts[0].toUpperCase() === 'HPUB' ? 2 : 1;
  const hasReply = parts.length === 2 + sizes + 1;
  const subject = change.subject ?? parts[1];
  const reply = change.reply ?? (hasReply ? parts[2] : undefined);
  const head = [parts[0], subject, ...(reply ? [reply] : []), ...parts.slice(-sizes)].join(' ');
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), frame.subarray(eol + 2)]);
}

export async function startNatsFaultProxy(target: { host?: string; port: number }): Promise<NatsFaultProxy> {
  const rules: Rule[] = [];
  const held: { upstream: net.Socket; frame: Buffer }[] = [];
  const sockets = new Set<net.Socket>();
  const ruleFor = (subject: string, frame: Buffer): Rule | undefined => {
    const rule = rules.find((r) => r.subject.test(subject) && (!r.msgId || r.msgId(msgIdOf(frame))));
    if (rule) rule.count++;
    return rule;
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host ?? '127.0.0.1');
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    /** Forwards whole protocol frames; a PUB/HPUB frame is header line + payload + CRLF. */
    const pump = (): void => {
      for (;;) {
        const eol = pending.indexOf(CRLF);
        if (eol < 0) return;
        const line = pending.subarray(0, eol).toString('latin1');
        const op = line.slice(0, 4).toUpperCase();
        let frameEnd = eol + 2;
        let subject: string | undefined;
        if (op === 'PUB ' || op === 'HPUB') {
          const parts = line.split(' ').filter(Boolean);
          const total = Number(parts.at(-1));
          frameEnd = eol + 2 + total + 2;
          if (pending.length < frameEnd) return;
          subject = parts[1];
        }
        const frame = pending.subarray(0, frameEnd);
        pending = pending.subarray(frameEnd);
        const rule = subject === undefined ? undefined : ruleFor(subject, frame);
        if (!rule) upstream.write(frame);
        else if (rule.action === 'hold') held.push({ upstream, frame: Buffer.from(frame) });
        else if (rule.action === 'divert') {
          upstream.write(withHead(frame, eol, line, { subject: rule.to }));
          if (rule.isAlsoStored) upstream.write(withHead(frame, eol, line, { reply: '_FAULT_PROXY.void' }));
        }
      }
    };
    client.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      pump();
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `nats://127.0.0.1:${port}`,
    drop(subject) {
      const rule: Rule = { subject, count: 0, action: 'drop' };
      rules.push(rule);
      return rule;
    },
    hold(subject) {
      const rule: Rule = { subject, count: 0, action: 'hold' };
      rules.push(rule);
      return rule;
    },
    divert(subject, to, options = {}) {
      const rule: Rule = { subject, count: 0, action: 'divert', to, msgId: options.msgId, isAlsoStored: options.isAlsoStored };
      rules.push(rule);
      return rule;
    },
    clear() {
      rules.length = 0;
    },
    release() {
      for (const { upstream, frame } of held.splice(0)) if (!upstream.destroyed) upstream.write(frame);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
