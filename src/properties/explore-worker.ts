/**
 * Worker-thread entry of an exploration campaign (src/properties/campaign.ts): explores one
 * sub-shard and posts progress and the result back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { exploreShard, type CampaignSpec } from './campaign.js';

const spec = workerData as CampaignSpec;
let last = 0;
const result = exploreShard(spec, (done, total) => {
  if (done - last >= 200 || done === total) {
    last = done;
    parentPort!.postMessage({ kind: 'progress', done, total });
  }
});
parentPort!.postMessage({ kind: 'result', result });
