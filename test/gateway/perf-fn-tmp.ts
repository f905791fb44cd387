import { startFunctionServer } from './support/function-server.js';
const fn = await startFunctionServer();
console.log(fn.url);
