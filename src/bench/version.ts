/**
 * What exactly was measured: digests of the quantized network and of each deployment plan, so
 * a report says which model version its numbers belong to (a retrained LeNet, a changed
 * quantization policy or a new tiling gives a different digest).
 */
import { createHash } from 'node:crypto';
import type { QuantizedNetwork } from '../model/quantize.js';
import type { EnginePlan } from '../engines/reference/plan.js';
import { stableStringify } from '../util/json.js';

function bytesOf(a: Int16Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** SHA-256 (first 16 hex digits) of the quantized network: structure, scales, weights, biases. */
export function quantizedDigest(q: QuantizedNetwork): string {
  const h = createHash('sha256');
  const net = q.net;
  h.update(stableStringify({ name: net.name, input: net.input, output: net.output, exps: [...q.exps].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) }, 0));
  for (const n of q.nodes) {
    // The float weights are left out: the quantized ones below are what the device runs.
    const { weight: _w, bias: _b, ...attrs } = n.node.op as { weight?: unknown; bias?: unknown };
    h.update(stableStringify({ name: n.node.name, op: attrs, inputs: n.node.inputs, output: n.node.output }, 0));
    if (n.kind !== 'other') {
      h.update(bytesOf(n.weightQ));
      h.update(bytesOf(n.biasQ));
    }
  }
  return h.digest('hex').slice(0, 16);
}

/** SHA-256 (first 16 hex digits) of a deployment plan: program image (arranged weights) and NVM map. */
export function planDigest(p: EnginePlan): string {
  const h = createHash('sha256');
  h.update(stableStringify({ params: { engine: p.params.engine, batch: p.params.batch, placement: p.params.placement, faults: p.params.faults, fixes: p.params.fixes, opFilters: p.params.opFilters }, nvm: p.nvm, loopCountNvm: (p.extra?.['loopCount'] as { nvm?: unknown } | undefined)?.nvm ?? null }, 0));
  h.update(bytesOf(p.rom));
  return h.digest('hex').slice(0, 16);
}
