/**
 * The shipped campaign examples (examples/) are valid, checked offline against real schemas,
 * and the commands they run work as written:
 *  - Kubernetes manifests: the Kubernetes OpenAPI schemas as compiled by kubernetes-models
 *    (ajv: types, required fields, enums), and its TypeScript declarations of the same API for
 *    unknown fields, which the OpenAPI schemas let through (the API server's strict field
 *    validation does not);
 *  - the GitHub Actions workflow: GitHub's own workflow parser and schema (@actions/workflow-parser);
 *  - the Dockerfile: dockerfile-utils' validator (the Docker language server's);
 *  - each pod's and each job's script, run here on a small built-in model in place of
 *    cifar10: four shards, then the merge, through a `japari` on PATH (the image's entry point).
 * Every schema check has a negative twin: a broken copy built in memory must be rejected.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { validate as validateDockerfile } from 'dockerfile-utils';
import { main, captureIo } from '../src/cli/main.js';
import { projectRoot } from '../src/util/shared.js';

const ROOT = projectRoot();
const EXAMPLES = join(ROOT, 'examples');
const BIN = join(ROOT, 'bin', 'japari.js');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, checked by the schemas below
type Doc = Record<string, any>;

function read(path: string): string {
  return readFileSync(join(EXAMPLES, path), 'utf8');
}

/** YAML documents, refusing any parse error or warning (duplicate keys included). */
function yamlDocs(text: string): Doc[] {
  return parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true }).flatMap((d) => {
    const problems = [...d.errors, ...d.warnings].map((e) => e.message);
    if (problems.length > 0) throw new Error(`YAML: ${problems.join('; ')}`);
    return d.contents === null ? [] : [d.toJS() as Doc];
  });
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

/** kubernetes-models' module of a resource: batch/v1 Job -> kubernetes-models/batch/v1/Job. */
function k8sModule(doc: Doc): string {
  if (typeof doc['apiVersion'] !== 'string' || typeof doc['kind'] !== 'string') throw new Error('a manifest needs apiVersion and kind');
  return `kubernetes-models/${doc['apiVersion']}/${doc['kind']}`;
}

/** Schema errors of one resource (ajv-compiled Kubernetes OpenAPI), or [] when valid. */
async function k8sSchemaErrors(doc: Doc): Promise<string[]> {
  let Model: new (d: Doc) => { validate(): void };
  try {
    Model = ((await import(k8sModule(doc))) as Record<string, new (d: Doc) => { validate(): void }>)[doc['kind'] as string]!;
  } catch {
    return [`no schema for ${doc['apiVersion']} ${doc['kind']}`];
  }
  try {
    new Model(doc).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/**
 * Unknown-field errors of several resources at once: each becomes an object literal typed by
 * kubernetes-models' declaration of its kind, in one in-memory TypeScript program, so excess
 * property checks reject every field the API does not define, at any depth.
 */
function k8sFieldErrors(docs: readonly Doc[]): string[][] {
  const files = docs.map((_, i) => join(ROOT, 'test', `__manifest_${i}__.ts`));
  const sources = new Map(
    docs.map((d, i) => [files[i]!, `import type { I${d['kind']} as Resource } from '${k8sModule(d)}';\nexport const resource: Resource = ${JSON.stringify(d, null, 1)};\n`]),
  );
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (sources.has(f) ? ts.createSourceFile(f, sources.get(f)!, lang) : getSourceFile(f, lang, ...rest));
  host.fileExists = (f) => sources.has(f) || fileExists(f);
  const program = ts.createProgram(files, options, host);
  return files.map((f) => ts.getPreEmitDiagnostics(program, program.getSourceFile(f)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')));
}

const MANIFESTS = ['kubernetes/explore-job.yaml', 'kubernetes/merge-job.yaml'];

describe('Kubernetes manifests', () => {
  const docs = new Map(MANIFESTS.map((m) => [m, yamlDocs(read(m))]));
  const all = [...docs.values()].flat();
  const job = (name: string) => all.find((d) => d['kind'] === 'Job' && d['metadata']?.['name'] === name)!;
  const env = (container: Doc, name: string) => (container['env'] as Doc[]).find((e) => e['name'] === name)?.['value'] as string;

  it('parse as YAML and pass the Kubernetes schemas', async () => {
    expect(all.map((d) => `${d['apiVersion']} ${d['kind']}`)).toEqual(['v1 PersistentVolumeClaim', 'batch/v1 Job', 'batch/v1 Job']);
    for (const d of all) expect(await k8sSchemaErrors(d), `${d['kind']} ${d['metadata']?.['name']}`).toEqual([]);
  });

  it('schema checks reject broken copies', async () => {
    const explore = job('japari-explore');
    const broken: [string, (d: Doc) => void][] = [
      ['a string where an integer goes', (d) => (d['spec']['completions'] = 'one hundred')],
      ['a container without an image name', (d) => delete d['spec']['template']['spec']['containers'][0]['name']],
      ['a completion mode that does not exist', (d) => (d['spec']['completionMode'] = 'Indexd')],
      ['no pod template', (d) => delete d['spec']['template']],
    ];
    for (const [what, breakIt] of broken) {
      const copy = structuredClone(explore);
      breakIt(copy);
      expect((await k8sSchemaErrors(copy)).length, what).toBeGreaterThan(0);
    }
    expect(await k8sSchemaErrors({ apiVersion: 'batch/v9', kind: 'Job' })).toEqual(['no schema for batch/v9 Job']);
  });

  it('carry no field the API does not define (and a misspelt one is caught)', () => {
    const explore = job('japari-explore');
    const typo = structuredClone(explore);
    typo['spec']['backofLimitPerIndex'] = typo['spec']['backoffLimitPerIndex'];
    delete typo['spec']['backoffLimitPerIndex'];
    const deep = structuredClone(explore);
    deep['spec']['template']['spec']['containers'][0]['volumeMount'] = [];
    const wrongEnum = structuredClone(explore);
    wrongEnum['spec']['podFailurePolicy']['rules'][0]['action'] = 'Explode';
    const errors = k8sFieldErrors([...all, typo, deep, wrongEnum]);
    for (let i = 0; i < all.length; i++) expect(errors[i], `${all[i]!['kind']} ${all[i]!['metadata']?.['name']}`).toEqual([]);
    const [eTypo, eDeep, eEnum] = errors.slice(all.length);
    expect(eTypo!.join(' ')).toMatch(/backofLimitPerIndex/);
    expect(eDeep!.join(' ')).toMatch(/volumeMount/);
    expect(eEnum!.join(' ')).toMatch(/Explode/);
  });

  it('the explore Job is an Indexed Job whose pods run shard $JOB_COMPLETION_INDEX/N into the shared volume', () => {
    const spec = job('japari-explore')['spec'];
    expect(spec['completionMode']).toBe('Indexed');
    const pod = spec['template']['spec'];
    const c = pod['containers'][0] as Doc;
    expect(Number(env(c, 'SHARDS'))).toBe(spec['completions']);
    const script = c['args'][0] as string;
    expect(script).toMatch(/japari explore .*--shard "\$JOB_COMPLETION_INDEX\/\$SHARDS" --out "\/results\/\$CAMPAIGN"/s);
    const mounts = c['volumeMounts'] as Doc[];
    expect(mounts.find((m) => m['mountPath'] === '/shared')?.['readOnly']).toBe(true);
    expect(mounts.some((m) => m['mountPath'] === '/results')).toBe(true);
    // The merge Job reads the same campaign folder, and waits for the same N.
    const merge = job('japari-merge')['spec']['template']['spec'];
    expect(env(merge['initContainers'][0], 'SHARDS')).toBe(env(c, 'SHARDS'));
    expect(env(merge['containers'][0], 'CAMPAIGN')).toBe(env(c, 'CAMPAIGN'));
    expect(merge['containers'][0]['args'][0]).toBe('merge');
  });
});

// ---------------------------------------------------------------------------------------------
// GitHub Actions

/** Errors GitHub's workflow parser reports: schema (keys, types, expressions), then conversion (jobs, needs, matrix). */
async function workflowErrors(text: string): Promise<string[]> {
  const wp = await import('@actions/workflow-parser');
  const parsed = wp.parseWorkflow({ name: 'japari-campaign.yml', content: text }, new wp.NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !parsed.value) return errors.length > 0 ? errors : ['no workflow'];
  const template = await wp.convertWorkflowTemplate(parsed.context, parsed.value);
  return [...new Set([...(template.errors ?? []).map((e) => e.Message), ...parsed.context.errors.getErrors().map((e) => e.message)])];
}

const WORKFLOW = 'github-actions/japari-campaign.yml';

describe('GitHub Actions workflow', () => {
  it("passes GitHub's workflow schema", async () => {
    expect(await workflowErrors(read(WORKFLOW))).toEqual([]);
  });

  it('the schema check rejects broken copies', async () => {
    const text = read(WORKFLOW);
    const broken: [string, string][] = [
      ['a misspelt key', text.replace('    runs-on: ubuntu-latest\n    timeout-minutes', '    runs-onn: ubuntu-latest\n    timeout-minutes')],
      ['a job that needs a job that does not exist', text.replace('    needs: shard\n', '    needs: shards\n')],
      ['an unclosed expression', text.replace('${{ matrix.index }}\n    needs', '${{ matrix.index }\n    needs')],
      ['a word where minutes go', text.replace('timeout-minutes: 120', 'timeout-minutes: soon')],
    ];
    for (const [what, copy] of broken) {
      expect(copy, what).not.toBe(text);
      expect((await workflowErrors(copy)).length, what).toBeGreaterThan(0);
    }
  });

  it('a matrix over the shard indices uploads each result; the merge job downloads them all', () => {
    const wf = yamlDocs(read(WORKFLOW))[0]!;
    const shard = wf['jobs']['shard'];
    expect(shard['strategy']['matrix']['index']).toBe('${{ fromJSON(needs.plan.outputs.indices) }}');
    const steps = shard['steps'] as Doc[];
    expect(steps.find((s) => typeof s['run'] === 'string' && s['run'].includes('--shard "$INDEX/$SHARDS" --out results'))).toBeDefined();
    expect(steps.find((s) => s['uses'] === 'actions/upload-artifact@v4')?.['with']['path']).toBe('results/');
    const merge = wf['jobs']['merge'];
    expect(merge['needs']).toBe('shard');
    const msteps = merge['steps'] as Doc[];
    expect(msteps.find((s) => s['uses'] === 'actions/download-artifact@v4')?.['with']).toMatchObject({ pattern: 'japari-shard-*', path: 'results', 'merge-multiple': true });
    expect(msteps.some((s) => typeof s['run'] === 'string' && s['run'].includes('japari.js merge results'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Dockerfile

describe('Dockerfile', () => {
  const text = read('container/Dockerfile');
  const errorsOf = (t: string) => validateDockerfile(t).map((d) => d.message);

  it('passes the Dockerfile validator, and the validator rejects broken copies', () => {
    expect(errorsOf(text)).toEqual([]);
    expect(errorsOf(text.replace('FROM node:20-bookworm-slim AS pack', 'FORM node:20-bookworm-slim AS pack')).length).toBeGreaterThan(0);
    expect(errorsOf(text.replace('COPY --from=pack /pkg/ /tmp/pkg/', 'COPY --from=pack')).length).toBeGreaterThan(0);
  });

  it('builds from the npm package on Node 20, with the shared data as a volume, never baked in', () => {
    const from = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(from.length).toBe(2);
    for (const image of from) expect(image).toMatch(/^node:20[-.]/);
    expect(text).toMatch(/npm pack --ignore-scripts --pack-destination \/pkg/);
    expect(text).toMatch(/npm install --global --omit=dev .*\/tmp\/pkg\/japari-\*\.tgz/);
    expect(text).toMatch(/JAPARI_SHARED=\/shared/);
    expect(text).toMatch(/^VOLUME \["\/shared", "\/results"\]/m);
    const copied = [...text.matchAll(/^(?:COPY|ADD)\s+(.*)$/gm)].map((m) => m[1]!);
    for (const c of copied) expect(c).not.toMatch(/shared|models|traces/);
    const ignore = read('container/Dockerfile.dockerignore');
    expect(ignore).toMatch(/^\*$/m); // everything excluded but what stage 1 copies
  });
});

// ---------------------------------------------------------------------------------------------
// The scripts, run as written

function sh(shell: string, script: string, env: Record<string, string>, cwd: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(shell, ['-c', script], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000, maxBuffer: 16 << 20 }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out, err });
    });
  });
}

describe('the examples run as written (a small built-in model in place of cifar10)', () => {
  let tmp: string;
  let path: string;
  beforeAll(() => {
    expect(existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))).toBe(true); // npm test builds first
    tmp = mkdtempSync(join(tmpdir(), 'japari-examples-'));
    // The image's entry point: `japari` on PATH.
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'japari'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'japari'), 0o755);
    path = `${bin}:${process.env['PATH'] ?? ''}`;
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('Kubernetes: four explore pods (a failing point still completes the pod), the wait, then the merge', async () => {
    const all = MANIFESTS.flatMap((m) => yamlDocs(read(m)));
    const explore = all.find((d) => d['metadata']?.['name'] === 'japari-explore')!['spec']['template']['spec']['containers'][0];
    const merge = all.find((d) => d['metadata']?.['name'] === 'japari-merge')!['spec']['template']['spec'];
    const results = join(tmp, 'results');
    // tiny-fc on JAPARI holds a published finding: shards find failing points.
    const script = (explore['args'][0] as string).replaceAll('/results', results).replace('--model cifar10 --engine japari', '--model tiny-fc --engine japari');
    expect(script).not.toBe(explore['args'][0]);
    const pods = await Promise.all([0, 1, 2, 3].map((i) => sh('/bin/sh', script, { PATH: path, JOB_COMPLETION_INDEX: String(i), SHARDS: '4', CAMPAIGN: 'c' }, tmp)));
    for (const p of pods) expect(p.code, p.err).toBe(0);
    // The init container returns at once when all N results are there.
    const wait = (merge['initContainers'][0]['args'][0] as string).replaceAll('/results', results);
    const w = await sh('/bin/sh', wait, { PATH: path, SHARDS: '4', CAMPAIGN: 'c' }, tmp);
    expect(w.code, w.err).toBe(0);
    expect(w.out).toMatch(/^4 of 4 shard results/m);
    // The merge container: the image's entry point with the Job's args ($(VAR) expanded by Kubernetes).
    const args = (merge['containers'][0]['args'] as string[]).map((a) => a.replaceAll('$(CAMPAIGN)', 'c').replace(/^\/results/, results));
    const io = captureIo({ cwd: tmp });
    expect(await main(args, io)).toBe(1); // the campaign failed: the Job fails, with the report in its log
    expect(io.stdout()).toMatch(/^FAIL \d+ failing point\(s\) among/);
    const merged = readdirSync(join(results, 'c', 'merged'));
    expect(merged.some((f) => /^explore-[0-9a-f]{16}\.json$/.test(f))).toBe(true);
    expect(merged.some((f) => f.startsWith('counterexample-'))).toBe(true);
  });

  it('GitHub Actions: the plan step, four shard jobs with their artifacts, the merge job', async () => {
    const wf = yamlDocs(read(WORKFLOW))[0]!;
    const output = join(tmp, 'github-output');
    writeFileSync(output, '');
    const plan = wf['jobs']['plan']['steps'][0]['run'] as string;
    expect((await sh('bash', plan, { SHARDS: '4', GITHUB_OUTPUT: output }, tmp)).code).toBe(0);
    expect(readFileSync(output, 'utf8')).toBe('indices=[0,1,2,3]\n');
    expect((await sh('bash', plan, { SHARDS: '0', GITHUB_OUTPUT: output }, tmp)).code).toBe(2);

    const step = (wf['jobs']['shard']['steps'] as Doc[]).find((s) => typeof s['run'] === 'string' && s['run'].includes('japari.js explore'))!;
    const run = (step['run'] as string).replaceAll('node bin/japari.js', `"${process.execPath}" "${BIN}"`);
    const download = join(tmp, 'gh-merge', 'results');
    mkdirSync(download, { recursive: true });
    for (const i of [0, 1, 2, 3]) {
      const workspace = join(tmp, `gh-shard-${i}`);
      mkdirSync(workspace);
      const r = await sh('bash', `set -eo pipefail\n${run}`, { MODEL: 'tiny-fc', ENGINE: 'japari', BATCH: '1', SHARDS: '4', INDEX: String(i) }, workspace);
      expect(r.code, r.err).toBe(0);
      // upload-artifact of results/, download-artifact with merge-multiple: one folder.
      cpSync(join(workspace, 'results'), download, { recursive: true });
    }
    const mergeRun = ((wf['jobs']['merge']['steps'] as Doc[]).find((s) => typeof s['run'] === 'string' && s['run'].includes('japari.js merge'))!['run'] as string).replaceAll(
      'node bin/japari.js',
      `"${process.execPath}" "${BIN}"`,
    );
    const m = await sh('bash', `set -eo pipefail\n${mergeRun}`, {}, join(tmp, 'gh-merge'));
    expect(m.code).toBe(1); // the campaign failed: the job fails (pipefail through tee)
    expect(readFileSync(join(tmp, 'gh-merge', 'merged', 'report.txt'), 'utf8')).toMatch(/^FAIL \d+ failing point\(s\)/);
  });
});
