import { useState } from 'react';

import { ErrorText, Pager } from '../components';
import { ShopsDocument } from '../gql/graphql';
import { useQuery } from '../hooks';

const PAGE = 20;

export function ShopsPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const shops = useQuery(ShopsDocument, { first: PAGE, after });
  const connection = shops.data?.shops;
  return (
    <section aria-labelledby="shops-heading">
      <h1 id="shops-heading">Shops</h1>
      <ErrorText error={shops.error} />
      {connection && connection.nodes.length === 0 && <p>No shops yet.</p>}
      <ul className="cards">
        {connection?.nodes.map((shop) => (
          <li key={shop.id} className="card">
            <h2>
              <a href={`#/shop/${shop.id}`}>{shop.name}</a>
            </h2>
            <p>{shop.address}</p>
            <p>{shop.phone}</p>
          </li>
        ))}
      </ul>
      <Pager label="Shop pages" page={cursors.length - 1} hasNext={connection?.pageInfo.hasNextPage ?? false}
        onPrevious={() => setCursors(cursors.slice(0, -1))}
        onNext={() => setCursors([...cursors, connection?.pageInfo.endCursor ?? null])} />
    </section>
  );
}
