import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { GatewayPlugin } from '@graphql-hive/gateway';
import { buildSchema, GraphQLError, parse } from 'graphql';

import { nulledRoots, requestError, useErrorContract } from '../src/errorContract.ts';
import { refusal, startGateway, type ErrorBody } from './gateway.ts';

const gateway = (t: Parameters<typeof startGateway>[0]) => startGateway(t, { plugins: () => [useErrorContract()] });

test('a request error carries its code and a status kept whatever the Accept header', () => {
  const error = requestError('Too big', 413, 'PAYLOAD_TOO_LARGE', { connection: 'close' });
  assert.deepEqual(error.extensions, {
    code: 'PAYLOAD_TOO_LARGE',
    http: { status: 413, spec: false, headers: { connection: 'close' } },
  });
});

test('an unsupported content type gets 415 and a GraphQL error with BAD_REQUEST', async (t) => {
  const response = await gateway(t).fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', accept: 'application/json' },
    body: '{ hello }',
  });
  const body = await refusal(response, 415, ['BAD_REQUEST']);
  assert.match(body.errors[0].message, /Unsupported content type "text\/plain"/);
});

test('malformed JSON and a missing query get 400 BAD_REQUEST even for Accept: application/json', async (t) => {
  const router = gateway(t);
  const malformed = await router.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: '{"query": ',
  });
  await refusal(malformed, 400, ['BAD_REQUEST']);

  const missing = await router.post({ variables: {} });
  await refusal(missing, 400, ['BAD_REQUEST']);
});

test('parse and validation failures get 400 and their codes even for Accept: application/json', async (t) => {
  const router = gateway(t);
  const syntax = await router.post({ query: '{ hello' });
  await refusal(syntax, 400, ['GRAPHQL_PARSE_FAILED']);

  const unknown = await router.post({ query: '{ nope }' });
  await refusal(unknown, 400, ['GRAPHQL_VALIDATION_FAILED']);
});

test("without the plugin Yoga would answer those with 200 (what the plugin is for)", async (t) => {
  const response = await startGateway(t).post({ query: '{ nope }' });
  assert.equal(response.status, 200);
});

test('a good request is answered as it is', async (t) => {
  const response = await gateway(t).post({ query: '{ hello }' });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { data: { hello: 'world' } });
});

test('an operation whose root fields all failed: nullable ones are null, a non-null one makes data null', () => {
  const schema = buildSchema('type Query { me: Int, shops: Int } type Mutation { logoutEverywhere: Int! }');
  const roots = (source: string) => nulledRoots(schema, parse(source), undefined);
  assert.deepEqual(roots('{ me }'), { me: null });
  assert.deepEqual(roots('{ a: me b: shops }'), { a: null, b: null });
  assert.equal(roots('mutation { logoutEverywhere }'), null);
  assert.equal(roots('{ ... on Query { me } }'), undefined); // not a plain field: left as the planner gave it
  assert.equal(nulledRoots(schema, parse('query A { me } query B { shops }'), 'C'), undefined);
});

test("an error's internal extensions (the upstream request, the subgraph's response) never reach the client", async (t) => {
  // As the gateway's upstream timeout answers: the subgraph's URL and the document it was sent.
  const timedOut: GatewayPlugin = {
    onExecute({ setResultAndStopExecution }) {
      setResultAndStopExecution({
        errors: [
          new GraphQLError('Upstream request timed out', {
            extensions: {
              code: 'GATEWAY_TIMEOUT',
              serviceName: 'tiny',
              request: { url: 'http://10.0.0.7:8000/graphql', method: 'POST', body: '{"query":"{ hello }"}' },
              response: { status: 500, body: 'a stack trace' },
            },
          }),
        ],
      });
    },
  };
  const router = startGateway(t, { plugins: () => [timedOut, useErrorContract()] });
  const body = (await (await router.post({ query: '{ hello }' })).json()) as ErrorBody;
  assert.deepEqual(body.errors[0].extensions, { code: 'GATEWAY_TIMEOUT', serviceName: 'tiny' });
});
