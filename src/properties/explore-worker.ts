/**
 * Worker-thread entry of an exploration campaign (src/properties/campaign.ts): explores one
 * sub-shard and posts progress and the result back. An error is posted in its wire form
 * (util/errors.ts), so the parent rethrows the same class: bad input stays exit 2.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { exploreShard, type CampaignSpec } from './campaign.js';
import { errorToWire } from '../util/errors.js';
import { loadModulesFromEnv } from './modules.js';

const spec = workerData as CampaignSpec;
let last = 0;
try {
  // Engine modules the parent loaded (--engine-module): their designs must exist here too.
  await loadModulesFromEnv();
  const result = exploreShard(spec, (done, total) => {
    if (done - last >= 200 || done === total) {
      last = done;
      parentPort!.postMessage({ kind: 'progress', done, total });
    }
  });
  parentPort!.postMessage({ kind: 'result', result });
} catch (e) {
  parentPort!.postMessage({ kind: 'error', error: errorToWire(e) });
}
