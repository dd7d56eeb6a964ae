// A Hive Gateway runtime in this process over a tiny supergraph whose one subgraph also runs in this process:
// a plugin under test serves real requests through the gateway's `fetch`, with no port and no child process.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

import { createGatewayRuntime, useCustomFetch, type GatewayConfigSupergraph } from '@graphql-hive/gateway';
import { composeServices } from '@theguild/federation-composition';
import { buildSchema, graphql, parse } from 'graphql';

const SUBGRAPH_SDL = `
type Query { hello: String, node: Node, me: User }
type Mutation { login(login: String!, password: String!): String }
type Node { name: String, child: Node }
type User { id: ID!, login: String }
`;

const composed = composeServices([
  {
    name: 'tiny',
    url: 'http://tiny.test/graphql',
    typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n${SUBGRAPH_SDL}`),
  },
]);
if (!composed.supergraphSdl) throw new Error((composed.errors ?? []).map((error) => error.message).join('\n'));
/** The tiny supergraph: root fields hello, node, me and login. */
export const SUPERGRAPH: string = composed.supergraphSdl;

const subgraphSchema = buildSchema(SUBGRAPH_SDL);
const node: Record<string, unknown> = { name: 'node' };
node.child = node; // as deep as a query asks
const rootValue = { hello: 'world', node, me: { id: '1', login: 'demo' }, login: 'a token' };

/** A request the subgraph got: its headers and body. */
export interface SubgraphRequest {
  headers: Record<string, string>;
  query: string;
}

export interface TestGateway {
  /** Answers a request to `path` as the router would over HTTP. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POSTs a GraphQL request body to /graphql. */
  post(body: object, headers?: Record<string, string>): Promise<Response>;
  /** The requests the subgraph got, in order. */
  subgraphRequests: SubgraphRequest[];
}

type Config = Omit<GatewayConfigSupergraph, 'supergraph'>;

/** A gateway with `config` over the tiny supergraph, disposed when the test `t` ends. */
export function startGateway(t: TestContext, config: Config = {}): TestGateway {
  const subgraphRequests: SubgraphRequest[] = [];
  const subgraph = useCustomFetch(async (_url, options) => {
    const body = JSON.parse(String(options?.body));
    subgraphRequests.push({ headers: { ...(options?.headers as Record<string, string>) }, query: body.query });
    const result = await graphql({
      schema: subgraphSchema,
      source: body.query,
      variableValues: body.variables,
      rootValue,
    });
    return new Response(JSON.stringify(result), { headers: { 'content-type': 'application/json' } });
  });
  const runtime = createGatewayRuntime({
    logging: false,
    ...config,
    supergraph: SUPERGRAPH,
    plugins: (context) => [subgraph, ...(config.plugins?.(context) ?? [])],
  });
  t.after(() => runtime.dispose());
  const fetch = (path: string, init?: RequestInit) => Promise.resolve(runtime.fetch(`http://router.test${path}`, init));
  return {
    fetch,
    post: (body, headers = {}) =>
      fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    subgraphRequests,
  };
}

/** The `extensions.code` of each error in a GraphQL answer. */
export function codes(body: { errors?: { extensions?: { code?: string } }[] }): (string | undefined)[] {
  return (body.errors ?? []).map((error) => error.extensions?.code);
}

/** A GraphQL answer's body as the tests read it. */
export interface ErrorBody {
  data?: unknown;
  errors: { message: string; extensions?: { code?: string } }[];
}

/** The body of `response`, once asserted to have HTTP status `status` and errors with exactly the codes `expected`. */
export async function refusal(response: Response, status: number, expected: string[]): Promise<ErrorBody> {
  assert.equal(response.status, status);
  const body = (await response.json()) as ErrorBody;
  assert.deepEqual(codes(body), expected);
  return body;
}
