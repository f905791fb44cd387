// The Call lookup section: an async call's record and, once it has one, its stored result. A call
// that is not final yet is watched (polled) until it is, so the state visibly moves along.
import { clear } from './dom.js';

const FINAL_STATES = new Set(['succeeded', 'failed', 'dead', 'cancelled']);
const WATCH_INTERVAL_MS = 1000;
const MAX_WATCH_MS = 10 * 60_000;

export function createCallLookupView({ api, root }) {
  const form = root.querySelector('#lookup-form');
  const input = form.querySelector('#lookup-id');
  const message = root.querySelector('[data-testid="lookup-message"]');
  const out = root.querySelector('[data-testid="lookup-out"]');
  const state = root.querySelector('[data-testid="call-state"]');
  const record = root.querySelector('[data-testid="call-record"]');
  const resultStatus = root.querySelector('[data-testid="call-result-status"]');
  const resultBody = root.querySelector('[data-testid="call-result-body"]');
  // Each lookup gets a generation; a newer lookup stops the older one's watch loop.
  let generation = 0;
  let timer;

  function say(text, isError = false) {
    message.textContent = text;
    message.classList.toggle('error-text', isError);
  }

  async function showOnce(callId, gen) {
    let rec;
    try {
      rec = await api.getCall(callId);
    } catch (err) {
      if (gen !== generation) return true;
      out.hidden = true;
      say(err.status === 404 ? `No call with id ${callId} (unknown, or past its retention).` : `Lookup failed: ${err.message}`, true);
      return true;
    }
    if (gen !== generation) return true;
    const isFinal = FINAL_STATES.has(rec.state);
    // Fetch the result before touching the page, so record and result always change together.
    const res = rec.hasResult ? await api.getResult(callId).catch((err) => ({ error: err.message })) : undefined;
    if (gen !== generation) return true;
    out.hidden = false;
    out.dataset.callId = callId;
    state.textContent = rec.state;
    state.className = `badge state-${rec.state}`;
    record.textContent = JSON.stringify(rec, null, 2);
    resultBody.hidden = true;
    if (res === undefined) {
      resultStatus.textContent = isFinal ? 'This call has no stored result.' : 'No result yet.';
      clear(resultBody);
    } else if (res === null) {
      resultStatus.textContent = 'No stored result.';
    } else if (res.error) {
      resultStatus.textContent = `Could not fetch the result: ${res.error}`;
    } else {
      resultStatus.textContent = `Status ${res.status}${res.contentType ? ` · ${res.contentType}` : ''}`;
      resultBody.hidden = false;
      resultBody.textContent = res.body === '' ? '(empty body)' : res.body;
    }
    say(isFinal ? `Call ${callId}: ${rec.state}.` : `Call ${callId}: ${rec.state}; watching for changes…`);
    return isFinal;
  }

  async function lookup(callId) {
    const id = callId.trim();
    if (!id) return;
    clearTimeout(timer);
    const gen = ++generation;
    input.value = id;
    // Never leave the previous call's record on screen under the new id.
    out.hidden = true;
    delete out.dataset.callId;
    say(`Looking up ${id}…`);
    const deadline = Date.now() + MAX_WATCH_MS;
    const tick = async () => {
      const isDone = await showOnce(id, gen);
      if (!isDone && gen === generation && Date.now() < deadline) timer = setTimeout(tick, WATCH_INTERVAL_MS);
    };
    await tick();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void lookup(input.value);
  });

  return {
    lookup(callId) {
      root.querySelector('#call-lookup').scrollIntoView({ block: 'start' });
      void lookup(callId);
      input.focus();
    },
  };
}
