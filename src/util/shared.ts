/**
 * Where ../shared lives (the third-party models and traces we use in place, never copy).
 * Resolved relative to the project root; JAPARI_SHARED overrides it.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json), from src/ or dist/src/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export function sharedDir(): string {
  return process.env['JAPARI_SHARED'] ? resolve(process.env['JAPARI_SHARED']) : resolve(projectRoot(), '..', 'shared');
}

export function sharedPath(...parts: string[]): string {
  return join(sharedDir(), ...parts);
}

export function sharedAvailable(...parts: string[]): boolean {
  return existsSync(sharedPath(...parts));
}

/** The four real models in ../shared/models, by short name. */
export const SHARED_MODELS = {
  mnist: 'mnist-8.onnx',
  har: 'HAR-CNN.onnx',
  kws: 'KWS-DNN_S.onnx',
  cifar10: 'squeezenet_cifar10.onnx',
} as const;
export type SharedModelName = keyof typeof SHARED_MODELS;
