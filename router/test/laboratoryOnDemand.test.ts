import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { renderLaboratory, resolve } from '../src/laboratoryOnDemand.mjs';

const SELF = new URL('../src/laboratoryOnDemand.mjs', import.meta.url).href;
const GATEWAY = new URL('../node_modules/@graphql-hive/gateway/dist/bin.js', import.meta.url).href;
const ROUTER = dirname(fileURLToPath(new URL('../serve.mjs', import.meta.url)));
const next = async (specifier: string) => ({ url: `next:${specifier}` });

test("the gateway's import of the playground package gets the on-demand module", async () => {
  assert.deepEqual(await resolve('@graphql-hive/render-laboratory', { parentURL: GATEWAY }, next), {
    url: SELF,
    shortCircuit: true,
  });
});

test('the on-demand module itself, and every other import, resolve as they would', async () => {
  assert.deepEqual(await resolve('@graphql-hive/render-laboratory', { parentURL: SELF }, next), {
    url: 'next:@graphql-hive/render-laboratory',
  });
  assert.deepEqual(await resolve('graphql', { parentURL: GATEWAY }, next), { url: 'next:graphql' });
});

test('the playground renders from the real package on first use', async () => {
  const page = await renderLaboratory({ title: 'Service Tree' });
  assert.match(page, /<title>Service Tree<\/title>/);
  assert.ok(page.length > 1_000_000, 'the page carries the Laboratory bundle');
});

/** The URLs of the modules a Node process loads, written by a load hook registered before anything else. */
function modulesLoaded(...args: string[]): string[] {
  const log = join(mkdtempSync(join(tmpdir(), 'modules-')), 'loaded.txt');
  const hook = `import { appendFileSync } from 'node:fs';
    export async function load(url, context, nextLoad) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return nextLoad(url, context); }`;
  const probe = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(probe)}`, ...args, '--help'], {
    cwd: ROUTER,
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /supergraph/);
  return readFileSync(log, 'utf8').split('\n');
}

test('serve.mjs starts the CLI without loading the playground package, which the CLI alone loads', () => {
  const playground = (url: string) => url.includes('/render-laboratory/');
  const served = modulesLoaded('serve.mjs');
  assert.ok(served.some((url) => url.endsWith('/src/laboratoryOnDemand.mjs')));
  assert.ok(served.some((url) => url.endsWith('/gateway/dist/bin.js')));
  assert.equal(served.filter(playground).length, 0);
  assert.ok(modulesLoaded(fileURLToPath(GATEWAY)).some(playground));
});
