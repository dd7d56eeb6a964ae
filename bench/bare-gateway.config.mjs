// A bare Hive Gateway for the benchmark's router floor: the router's supergraph and subgraphs, none of its
// plugins. Only what the same answer needs: the client's Authorization passed on (each subgraph checks the
// token itself), and, as on the measured router, no deduplication of identical in-flight subgraph queries.
const urls = JSON.parse(process.env.BENCH_SUBGRAPH_URLS ?? '{}');

export const gatewayConfig = {
  transportEntries: {
    ...Object.fromEntries(Object.entries(urls).map(([name, location]) => [name, { location }])),
    '*.http': { options: { deduplicateInflightRequests: false } },
  },
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') ?? '' }),
  },
};
