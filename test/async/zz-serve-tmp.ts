import { startHarness } from './support/harness.js';
const h = await startHarness({ 'queue.maxDepth': 10_000_000 });
h.deploy('echo');
console.log(h.url);
process.on('SIGTERM', async () => { await h.close(); process.exit(0); });
