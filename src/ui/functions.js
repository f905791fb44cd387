// The Functions section: the deployed functions with readiness and invocation counts, and a form
// to invoke one synchronously or asynchronously with the response shown next to it.
import { functionRef } from './api.js';
import { clear, h } from './dom.js';

const QUEUE_ANNOTATION = 'com.openfaas.queue';

function statusOf(fn) {
  return (fn.availableReplicas ?? 0) > 0 ? 'Ready' : 'Not ready';
}

export function createFunctionsView({ api, root, onLookup }) {
  const body = root.querySelector('[data-testid="functions-body"]');
  const form = root.querySelector('#invoke-form');
  const select = form.querySelector('#invoke-function');
  const result = root.querySelector('[data-testid="invoke-result"]');
  const out = {
    placeholder: result.querySelector('[data-testid="invoke-placeholder"]'),
    facts: result.querySelector('dl.facts'),
    status: result.querySelector('[data-testid="invoke-status"]'),
    callId: result.querySelector('[data-testid="invoke-call-id"]'),
    duration: result.querySelector('[data-testid="invoke-duration"]'),
    location: result.querySelector('[data-testid="invoke-location"]'),
    elapsed: result.querySelector('[data-testid="invoke-elapsed"]'),
    lookup: result.querySelector('[data-testid="invoke-lookup"]'),
    body: result.querySelector('[data-testid="invoke-body-out"]'),
  };

  function syncModeFields() {
    const isAsync = form.elements.mode.value === 'async';
    for (const block of form.querySelectorAll('.async-only')) {
      block.classList.toggle('is-disabled', !isAsync);
      for (const input of block.querySelectorAll('input')) input.disabled = !isAsync;
    }
  }
  form.addEventListener('change', (e) => { if (e.target.name === 'mode') syncModeFields(); });
  syncModeFields();

  function renderFunctions(functions) {
    clear(body);
    if (functions.length === 0) {
      body.append(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'No functions deployed.')));
    }
    for (const fn of functions) {
      const ref = functionRef(fn);
      const status = statusOf(fn);
      body.append(h('tr', { 'data-testid': `function-row-${ref}` },
        h('th', { scope: 'row' }, ref),
        h('td', { 'data-testid': 'function-status' }, h('span', { class: `badge ${status === 'Ready' ? 'ok' : 'warn'}` }, status)),
        h('td', { 'data-testid': 'function-replicas' }, `${fn.availableReplicas ?? 0} / ${fn.replicas ?? 0}`),
        h('td', { class: 'num', 'data-testid': 'function-invocations' }, String(fn.invocationCount ?? 0)),
        h('td', {}, fn.annotations?.[QUEUE_ANNOTATION] ?? 'default'),
        h('td', { class: 'mono' }, fn.image || fn.envProcess || '–')));
    }
    const previous = select.value;
    const refs = functions.map(functionRef);
    const current = [...select.options].map((o) => o.value);
    if (refs.join('\n') !== current.join('\n')) {
      select.replaceChildren(...refs.map((ref) => h('option', { value: ref }, ref)));
      if (refs.includes(previous)) select.value = previous;
    }
  }

  function showResult(r, isAsync) {
    out.placeholder.hidden = true;
    out.facts.hidden = false;
    const isOk = r.status >= 200 && r.status < 300;
    out.status.textContent = `${r.status} ${r.statusText ?? ''}`.trim();
    out.status.className = isOk ? 'ok-text' : 'error-text';
    out.callId.textContent = r.callId || '–';
    out.duration.textContent = r.durationSeconds || '–';
    out.location.textContent = r.location || '–';
    out.elapsed.textContent = `${Math.round(r.elapsedMs)} ms`;
    out.body.hidden = false;
    out.body.textContent = r.body === '' ? (isAsync && isOk ? '(accepted: no body; look the call up for its result)' : '(empty body)') : r.body;
    out.lookup.hidden = !(isAsync && r.callId);
    result.dataset.state = isOk ? 'ok' : 'error';
    result.dataset.mode = isAsync ? 'async' : 'sync';
  }

  out.lookup.addEventListener('click', () => {
    const id = out.callId.textContent;
    if (id && id !== '–') onLookup(id);
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const isAsync = data.get('mode') === 'async';
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    result.dataset.state = 'pending';
    result.setAttribute('aria-busy', 'true');
    try {
      const r = await api.invoke({
        fn: String(data.get('function') ?? ''),
        method: String(data.get('method') ?? 'POST'),
        path: String(data.get('path') ?? ''),
        contentType: String(data.get('contentType') ?? ''),
        body: String(data.get('body') ?? ''),
        isAsync,
        callbackUrl: String(data.get('callbackUrl') ?? '').trim(),
        priority: String(data.get('priority') ?? '').trim(),
      });
      showResult(r, isAsync);
    } catch (err) {
      showResult({ status: 0, statusText: `network error: ${err.message}`, callId: '', durationSeconds: '', location: '', elapsedMs: 0, body: '' }, isAsync);
    } finally {
      submit.disabled = false;
      result.removeAttribute('aria-busy');
    }
  });

  return {
    async refresh() {
      const functions = (await api.listFunctions()) ?? [];
      functions.sort((a, b) => functionRef(a).localeCompare(functionRef(b)));
      renderFunctions(functions);
      return functions;
    },
  };
}
