// The playground (Hive Laboratory), which opens ready in development.

export interface PlaygroundSettings {
  /** The demo customer's login and password (`make run` seeds it). */
  login: string;
  password: string;
  /** That customer's token when the launcher passes one, else a placeholder for the one Login answers. */
  token: string;
}

export const LOGIN = `mutation Login($login: String!, $password: String!) {
  login(login: $login, password: $password) {
    token
    expiresAt
    user { id login role }
  }
}
`;

/** The flagship query: the caller's purchases, each with its check's shop, lines, products and categories. */
export const MY_PURCHASES = `query MyPurchases {
  me {
    login
    purchases(first: 10) {
      totalCount
      nodes {
        name
        total
        check {
          number
          shop { name address }
          lines { quantity unitPrice product { name category { name } } }
        }
      }
    }
  }
}
`;

/** A live subscription: the demo shop's first products, now and after each change (the crafts deliver). */
export const LIVE_STOCK = `subscription LiveStock {
  stockChanged(productIds: ["1", "2", "3"]) {
    id
    name
    stock
  }
}
`;

/**
 * The playground's options: a "Service Tree: start here" collection with a mutation that logs in as the demo
 * customer, the flagship query, sent with that customer's token, and a subscription to stock.
 */
export function playground(settings: PlaygroundSettings) {
  const createdAt = new Date().toISOString();
  const operation = (id: string, name: string, description: string, query: string, variables: object, headers: object) => ({
    id,
    name,
    description,
    query,
    variables: JSON.stringify(variables, null, 2),
    headers: JSON.stringify(headers, null, 2),
    extensions: '{}',
    createdAt,
  });
  return {
    title: 'Service Tree',
    defaultCollections: [
      {
        id: 'service-tree',
        name: 'Service Tree: start here',
        description:
          'Log in as the demo customer, ask for its purchases with their checks in one request, and watch stock live.',
        createdAt,
        operations: [
          operation(
            'login',
            '1. Log in as the demo customer',
            'Answers a token for the Authorization header.',
            LOGIN,
            { login: settings.login, password: settings.password },
            {},
          ),
          operation(
            'my-purchases',
            '2. My purchases (the flagship query)',
            "The caller's purchases, each with its check's shop, lines, products and categories.",
            MY_PURCHASES,
            {},
            { Authorization: `Bearer ${settings.token}` },
          ),
          operation(
            'live-stock',
            '3. Live stock (a subscription)',
            "The demo shop's first products as they are, then after each buy or delivery: the crafts deliver every few seconds.",
            LIVE_STOCK,
            {},
            {},
          ),
        ],
      },
    ],
  };
}
