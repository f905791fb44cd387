// The Dead letters section: per queue, the calls whose retries ran out, each with a replay button,
// plus "replay all". Lists are fetched again when a queue's dead-letter count changes, and every
// few seconds while it has any (a replayed call may come back with a new time and error).
import { clear, formatTime, h } from './dom.js';

const MAX_ROWS = 100;
const REFETCH_MS = 5000;

export function createDeadLettersView({ api, root, onLookup }) {
  const container = root.querySelector('[data-testid="dead-letters"]');
  const message = root.querySelector('[data-testid="dl-message"]');
  /** queue → { count, fetchedAt, items, error } */
  const known = new Map();
  let renderedSignature = '';

  function say(text, isError = false) {
    message.textContent = text;
    message.classList.toggle('error-text', isError);
  }

  async function replay(queue, callIds) {
    try {
      const r = await api.replayDeadLetters(queue, callIds);
      const n = r?.replayed ?? 0;
      say(`Replayed ${n} call${n === 1 ? '' : 's'} from ${queue}.`);
    } catch (err) {
      say(`Replay failed on ${queue}: ${err.message}`, true);
    }
    const entry = known.get(queue);
    if (entry) entry.fetchedAt = 0;
    await refreshLists([...known.keys()].map((name) => ({ name, deadLetters: known.get(name).count })), true);
  }

  function renderQueue(name, entry) {
    const count = entry.count;
    const title = h('h3', {}, `${name} `, h('span', { class: 'badge' + (count > 0 ? ' warn' : '') }, String(count)));
    const actions = h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': `dl-replay-all-${name}`, disabled: count === 0, onclick: () => replay(name) }, `Replay all (${count})`));
    const block = h('article', { class: 'dl-queue', 'data-testid': `dl-queue-${name}`, 'data-count': count, 'aria-label': `Dead letters of queue ${name}` }, h('header', {}, title, actions));
    if (entry.error) {
      block.append(h('p', { class: 'error-text' }, entry.error));
      return block;
    }
    if (count === 0 || entry.items.length === 0) {
      block.append(h('p', { class: 'muted' }, 'No dead letters.'));
      return block;
    }
    const rows = entry.items.slice(0, MAX_ROWS).map((d) =>
      h('tr', { 'data-testid': `dl-row-${d.callId}` },
        h('td', {}, h('button', { type: 'button', class: 'link mono', title: 'Look up this call', onclick: () => onLookup(d.callId) }, d.callId)),
        h('td', {}, d.namespace && d.namespace !== 'openfaas-fn' ? `${d.function}.${d.namespace}` : d.function),
        h('td', {}, formatTime(d.deadAt)),
        h('td', { class: 'num' }, String(d.attempts ?? '–')),
        h('td', { class: 'num' }, d.lastStatus === undefined ? '–' : String(d.lastStatus)),
        h('td', { class: 'error-cell' }, d.lastError || '–'),
        h('td', {}, h('button', { type: 'button', 'data-testid': `dl-replay-${d.callId}`, 'aria-label': `Replay call ${d.callId}`, onclick: () => replay(name, [d.callId]) }, 'Replay'))));
    block.append(h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ...['Call id', 'Function', 'Dead since', 'Attempts', 'Last status', 'Last error', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))));
    // The gateway lists a bounded page of dead letters; say so when the queue holds more.
    const shown = Math.min(entry.items.length, MAX_ROWS);
    if (count > shown) block.append(h('p', { class: 'muted', 'data-testid': `dl-more-${name}` }, `Showing ${shown} of ${count}. "Replay all" replays every one of them.`));
    return block;
  }

  async function refreshLists(queues, isForced = false) {
    const now = Date.now();
    await Promise.all(queues.map(async (q) => {
      const count = q.deadLetters ?? 0;
      const entry = known.get(q.name) ?? { count: -1, fetchedAt: 0, items: [], error: '' };
      const isStale = entry.count !== count || (count > 0 && now - entry.fetchedAt > REFETCH_MS) || isForced;
      entry.count = count;
      known.set(q.name, entry);
      if (!isStale) return;
      if (count === 0 && !isForced) { entry.items = []; entry.error = ''; return; }
      try {
        entry.items = (await api.listDeadLetters(q.name)) ?? [];
        entry.count = isForced ? entry.items.length : Math.max(count, entry.items.length);
        entry.error = '';
      } catch (err) {
        entry.error = `Could not list dead letters: ${err.message}`;
      }
      entry.fetchedAt = Date.now();
    }));
    for (const name of [...known.keys()]) if (!queues.some((q) => q.name === name)) known.delete(name);
    // Re-render only on change, so a keyboard user's focus on a button is not thrown away each poll.
    const signature = JSON.stringify([...known].map(([name, e]) => [name, e.count, e.error, e.items.map((d) => [d.callId, d.deadAt, d.attempts, d.lastStatus, d.lastError])]));
    if (signature === renderedSignature) return;
    renderedSignature = signature;
    clear(container);
    if (known.size === 0) container.append(h('p', { class: 'muted' }, 'No queues yet.'));
    for (const [name, entry] of [...known].sort((a, b) => a[0].localeCompare(b[0]))) container.append(renderQueue(name, entry));
  }

  return {
    /** Follows the latest queue stats from the Queues poll. */
    update: (queues) => refreshLists(queues),
  };
}
