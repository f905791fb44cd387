// Entry of the dashboard: builds the sections and runs the polling loops (queues every 1.5 s,
// functions every 3 s). Each loop schedules its next round only after the previous one finished,
// so a slow gateway is never hit by overlapping polls.
import { createApi } from './api.js';
import { createCallLookupView } from './call-lookup.js';
import { createDeadLettersView } from './dead-letters.js';
import { createFunctionsView } from './functions.js';
import { createQueuesView } from './queues.js';

const QUEUES_POLL_MS = 1500;
const FUNCTIONS_POLL_MS = 3000;

function start() {
  const api = createApi();
  const connection = document.querySelector('[data-testid="connection"]');
  const lookupView = createCallLookupView({ api, root: document });
  const onLookup = (callId) => lookupView.lookup(callId);
  const functionsView = createFunctionsView({ api, root: document, onLookup });
  const queuesView = createQueuesView({ api, root: document });
  const deadLettersView = createDeadLettersView({ api, root: document, onLookup });
  document.querySelector('[data-testid="poll-interval"]').textContent = String(QUEUES_POLL_MS / 1000);

  const failures = new Map();
  function report(source, err) {
    if (err) failures.set(source, err.message ?? String(err));
    else failures.delete(source);
    if (failures.size === 0) {
      connection.textContent = `Connected · updated ${new Date().toLocaleTimeString()}`;
      connection.dataset.state = 'ok';
    } else {
      connection.textContent = `Problem talking to the gateway: ${[...failures.values()][0]}`;
      connection.dataset.state = 'error';
    }
  }

  function loop(source, intervalMs, fn) {
    const round = async () => {
      try {
        await fn();
        report(source);
      } catch (err) {
        report(source, err);
      }
      setTimeout(round, intervalMs);
    };
    void round();
  }

  loop('functions', FUNCTIONS_POLL_MS, () => functionsView.refresh());
  loop('queues', QUEUES_POLL_MS, async () => {
    const queues = await queuesView.refresh();
    await deadLettersView.update(queues);
  });

  // A call id in the address (#call=<id>) opens the lookup directly, so a lookup can be linked.
  const match = /^#call=(.+)$/.exec(location.hash);
  if (match) onLookup(decodeURIComponent(match[1]));
}

start();
