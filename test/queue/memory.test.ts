// The memory backend against the Queue contract.
import { createMemoryQueue } from '../../src/queue/index.js';
import { silentLogger } from '../../src/shared/index.js';
import { runQueueContract } from './contract.js';

runQueueContract('memory', async (options) => ({ queue: createMemoryQueue(options, silentLogger()), cleanup: async () => undefined }));
