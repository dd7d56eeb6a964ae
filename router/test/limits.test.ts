import assert from 'node:assert/strict';
import { test } from 'node:test';

import { useErrorContract } from '../src/errorContract.ts';
import { useOperationLimits } from '../src/limits.ts';
import { refusal, startGateway } from './gateway.ts';

const LIMITS = { depth: 4, aliases: 3, tokens: 40 };

const gateway = (t: Parameters<typeof startGateway>[0]) =>
  startGateway(t, { plugins: () => [...useOperationLimits(LIMITS), useErrorContract()] });

/** node { child { child ... { name } } }: `levels` fields, one inside the other. */
function nested(levels: number): string {
  const fields = ['node', ...Array<string>(levels - 2).fill('child')];
  return `{ ${fields.map((field) => `${field} { `).join('')}name${' }'.repeat(fields.length)} }`;
}

/** `count` aliases of `field`. */
const aliases = (count: number, field = 'hello') =>
  `{ ${Array.from({ length: count }, (_, n) => `a${n}: ${field}`).join(' ')} }`;

async function refused(response: Response, word: RegExp) {
  const body = await refusal(response, 400, ['GRAPHQL_VALIDATION_FAILED']);
  assert.match(body.errors[0].message, word);
  assert.doesNotMatch(body.errors[0].message, /^Syntax Error/);
  assert.equal(body.data, undefined);
}

test('an operation as deep as the limit is answered, one level deeper is refused', async (t) => {
  const router = gateway(t);
  const answer = await router.post({ query: nested(LIMITS.depth) });
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), { data: { node: { child: { child: { name: 'node' } } } } });
  await refused(await router.post({ query: nested(LIMITS.depth + 1) }), /depth/i);
});

test('fragment spreads are not levels: only field nesting counts', async (t) => {
  const query = `{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { child { name } }`;
  const answer = await gateway(t).post({ query });
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), { data: { node: { child: { child: { name: 'node' } } } } });
});

test('as many aliases as the limit are answered, one more is refused, __typename ones included', async (t) => {
  const router = gateway(t);
  const answer = await router.post({ query: aliases(LIMITS.aliases) });
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), { data: { a0: 'world', a1: 'world', a2: 'world' } });
  await refused(await router.post({ query: aliases(LIMITS.aliases + 1) }), /alias/i);
  await refused(await router.post({ query: aliases(LIMITS.aliases + 1, '__typename') }), /alias/i);
});

test('a document of as many tokens as the limit is answered, one more is refused', async (t) => {
  const router = gateway(t);
  const fields = (count: number) => `{ ${'hello '.repeat(count)}}`; // 2 braces and `count` names
  assert.equal((await router.post({ query: fields(LIMITS.tokens - 2) })).status, 200);
  await refused(await router.post({ query: fields(LIMITS.tokens - 1) }), /token/i);
});
