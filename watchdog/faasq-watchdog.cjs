#!/usr/bin/env node
// faasq's in-replica watchdog: the part of faasq that lives inside a function's sandbox, as the
// OpenFaaS watchdog lives inside the function's container. It is plain CommonJS on Node built-ins
// only, because it runs from a read-only bind mount with nothing of faasq's checkout beside it.
//
// The gateway starts one per replica with a JSON config in argv[2] and the function's environment
// as its own environment (nothing else), and reaches it on a Unix socket:
// - fork mode: an HTTP server; each request forks `fprocess` here with the CGI variables of the
//   classic watchdog, streams stdout back, and keeps the classic exit-code contract while no byte
//   has been sent (a non-zero exit then answers 500). Errors the gateway must translate carry an
//   `x-faasq-error` header (a fork function writes only a body, so it cannot forge one).
// - http mode: starts `fprocess` once. When faasq started it with an IPC channel, each `dial`
//   message is answered with a socket connected to the function's upstream inside the sandbox's
//   own network namespace (faasq then speaks HTTP on it itself), and `stop` sends the function
//   SIGTERM. Without a channel it relays every connection on the Unix socket, byte for byte, to
//   that upstream. When the function's server exits, so does the watchdog, and faasq restarts
//   the replica.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');

const config = JSON.parse(Buffer.from(process.argv[2] || '', 'base64url').toString('utf8'));
// What is sent at once when a call's output is small enough: the exit code still decides the
// status. Past it, the response is committed as 200 and streamed.
const holdBytes = config.maxOutputBytes > 0 ? Math.min(config.holdBytes, config.maxOutputBytes) : config.holdBytes;

function logLine(text) {
  // Go's log package prefix (2006/01/02 15:04:05), as the classic watchdog's lines carry it.
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  process.stderr.write(`${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${text}\n`);
}

/** Process groups of the fork calls running now, so a watchdog left behind can take them along. */
const forkGroups = new Set();

/**
 * faasq holds the write end of this process's stdin and never writes to it: an end of stdin means
 * faasq is gone (even by kill -9), so the watchdog takes its function processes and itself away
 * instead of being left running. (In a sandbox, bwrap's --die-with-parent does the same.)
 */
function exitWithFaasq(onGone) {
  process.stdin.on('end', onGone);
  process.stdin.on('error', onGone);
  process.stdin.resume();
}

function removeStaleSocket() {
  try {
    fs.unlinkSync(config.socket);
  } catch {
    // absent: nothing to remove
  }
}

/** Go's textproto canonical header key: X-CALL-id -> X-Call-Id. */
function canonical(name) {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash, letter) => dash + letter.toUpperCase());
}

/**
 * The classic watchdog's CGI environment. Headers first, then the request's own facts, so a
 * header named `Method`, `Path` or `Query` can never stand in for them.
 */
function cgiEnv(req, url) {
  const env = { ...process.env };
  const raw = req.rawHeaders;
  const seen = new Set();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === 'host') continue; // the socket's, not the caller's
    const key = `Http_${canonical(raw[i]).replace(/-/g, '_')}`;
    if (seen.has(key)) continue; // first value only, as the classic watchdog does
    seen.add(key);
    env[key] = raw[i + 1];
  }
  for (const key of ['Http_Method', 'Http_Path', 'Http_Query', 'Http_ContentLength', 'Http_Transfer_Encoding']) delete env[key];
  env.Http_Method = req.method;
  env.Http_Path = url.pathname;
  const query = url.search.slice(1);
  if (query) env.Http_Query = query;
  const declared = req.headers['content-length'];
  env.Http_ContentLength = declared !== undefined ? declared : '-1';
  if (req.headers['transfer-encoding']) env.Http_Transfer_Encoding = req.headers['transfer-encoding'];
  return env;
}

function fail(res, status, code, message) {
  const body = Buffer.from(message);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, 'x-faasq-error': code });
  res.end(body);
}

function serveFork() {
  let inflight = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://function');
    if (url.pathname === '/_/health') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('OK');
    }
    inflight += 1;
    const started = process.hrtime.bigint();
    logLine('Forking fprocess.');
    let child;
    try {
      child = spawn(config.command[0], config.command.slice(1), { cwd: config.cwd, env: cgiEnv(req, url), stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    } catch (err) {
      inflight -= 1;
      req.resume();
      return fail(res, 502, 'E_FUNCTION_UNREACHABLE', `could not start ${config.command[0]}: ${err.code || err.message}`);
    }
    forkGroups.add(child.pid);
    child.once('exit', () => forkGroups.delete(child.pid));
    const held = [];
    let heldBytes = 0;
    let written = 0;
    let isCommitted = false;
    let killedFor;
    let spawnError;
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const killFor = (why) => {
      if (killedFor) return;
      killedFor = why;
      killGroup();
      child.stdout.destroy();
    };
    const timer = config.execTimeoutMs > 0 ? setTimeout(() => killFor('timeout'), config.execTimeoutMs) : undefined;
    // The caller went away before the answer was complete: the work is abandoned.
    res.on('close', () => {
      if (!res.writableFinished) killFor('abort');
    });
    const contentType = process.env.content_type || req.headers['content-type'];
    const commit = () => {
      isCommitted = true;
      const headers = {};
      if (contentType) headers['content-type'] = contentType;
      res.writeHead(200, headers);
      for (const chunk of held) res.write(chunk);
      held.length = 0;
    };
    child.stdout.on('data', (chunk) => {
      if (killedFor) return;
      written += chunk.length;
      if (config.maxOutputBytes > 0 && written > config.maxOutputBytes) {
        held.length = 0;
        return killFor('output');
      }
      if (isCommitted) {
        if (!res.write(chunk)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes > holdBytes) commit();
    });
    child.once('error', (err) => {
      spawnError = err;
    });
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);
    child.once('close', (code, signal) => {
      inflight -= 1;
      if (timer) clearTimeout(timer);
      req.unpipe(child.stdin);
      req.resume();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (killedFor === 'abort') return;
      if (spawnError) {
        const why = spawnError.code === 'ENOENT' ? 'command not found (ENOENT)' : spawnError.code === 'EACCES' ? 'permission denied (EACCES)' : spawnError.code || spawnError.message;
        return fail(res, 502, 'E_FUNCTION_UNREACHABLE', `could not start ${config.command[0]}: ${why}`);
      }
      if (isCommitted) {
        // The status is sent: a failure now can only cut the body short, which the caller sees.
        if (killedFor || code !== 0) {
          logLine(`faasq: ${killedFor === 'timeout' ? `exec timeout of ${config.execTimeoutMs}ms` : killedFor === 'output' ? `output over ${config.maxOutputBytes} bytes` : signal ? `killed by ${signal}` : `exit status ${code}`} after ${written} bytes were sent; response cut short`);
          return res.destroy();
        }
        logLine(`Wrote ${written} Bytes - Duration: ${seconds.toFixed(6)} seconds`);
        return res.end();
      }
      if (killedFor === 'timeout') return fail(res, 504, 'E_FUNCTION_TIMEOUT', `exceeded its exec timeout of ${config.execTimeoutMs}ms; process killed`);
      if (killedFor === 'output') return fail(res, 502, 'E_FUNCTION_OUTPUT_TOO_LARGE', `wrote more than ${config.maxOutputBytes} bytes to stdout`);
      if (code !== 0) held.push(Buffer.from(`${heldBytes > 0 ? '\n' : ''}${signal ? `killed by ${signal}` : `exit status ${code}`}\n`));
      const output = Buffer.concat(held);
      const headers = { 'content-length': output.length };
      if (code !== 0) {
        headers['content-type'] = 'text/plain; charset=utf-8';
        if (signal) headers['x-faasq-signal'] = signal;
      } else if (contentType) headers['content-type'] = contentType;
      logLine(`Wrote ${output.length} Bytes - Duration: ${seconds.toFixed(6)} seconds`);
      res.writeHead(code === 0 ? 200 : 500, headers);
      res.end(output);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  removeStaleSocket();
  server.listen(config.socket);
  exitWithFaasq(() => {
    for (const pgid of forkGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(1);
  });
  process.on('SIGTERM', () => {
    server.close();
    const exitWhenIdle = () => (inflight === 0 ? process.exit(0) : setTimeout(exitWhenIdle, 20));
    exitWhenIdle();
  });
}

function serveHttp() {
  const child = spawn(config.command[0], config.command.slice(1), { cwd: config.cwd, env: process.env, stdio: ['ignore', 'inherit', 'inherit'] });
  child.once('error', (err) => {
    logLine(`faasq: could not start ${config.command[0]}: ${err.code || err.message}`);
    process.exit(127);
  });
  child.once('exit', (code, signal) => {
    logLine(`faasq: function process exited (${signal ? `killed by ${signal}` : `exit code ${code}`})`);
    process.exit(code === null ? 137 : code || 1);
  });
  if (process.send) return handOffConnections(child);
  const server = net.createServer((client) => {
    const upstream = net.connect(config.upstreamPort, config.upstreamHost);
    upstream.setNoDelay(true);
    client.setNoDelay?.(true);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  removeStaleSocket();
  server.listen(config.socket);
  exitWithFaasq(() => {
    child.kill('SIGKILL');
    process.exit(1);
  });
  process.on('SIGTERM', () => {
    server.close();
    child.kill('SIGTERM');
  });
}

/**
 * The IPC side of http mode: faasq asks for connections and for a graceful stop. A socket is
 * connected here, inside the network namespace, and sent to faasq unread (it is paused at once,
 * so no byte of the function's is consumed on the way).
 */
function handOffConnections(child) {
  const reply = (message, socket) => {
    if (!process.connected) return socket?.destroy();
    process.send(message, socket, (err) => {
      if (err) socket?.destroy();
    });
  };
  process.on('message', (message) => {
    if (message?.t === 'stop') {
      child.kill('SIGTERM');
      return;
    }
    if (message?.t !== 'dial' || !Number.isSafeInteger(message.id)) return;
    const socket = net.connect({ port: config.upstreamPort, host: config.upstreamHost });
    socket.pause();
    let isConnected = false;
    socket.once('connect', () => {
      isConnected = true;
      reply({ t: 'dialed', id: message.id }, socket);
    });
    socket.once('error', (err) => {
      socket.destroy();
      if (!isConnected) reply({ t: 'dial-failed', id: message.id, code: String(err.code || 'ECONNREFUSED') });
    });
  });
  // The channel closing means faasq is gone (or gave up on this replica).
  process.on('disconnect', () => {
    child.kill('SIGKILL');
    process.exit(1);
  });
  exitWithFaasq(() => {
    child.kill('SIGKILL');
    process.exit(1);
  });
  // SIGTERM reaches the watchdog only without a sandbox in between; it is passed on as well.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
}

if (config.mode === 'http') serveHttp();
else serveFork();
