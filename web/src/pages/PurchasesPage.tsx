import { useState, type FormEvent } from 'react';

import { ErrorText, Field, NameForm, Pager, Select } from '../components';
import { money, when } from '../errors';
import {
  CreateUserCategoryDocument,
  DeletePurchaseDocument,
  LivePurchasesDocument,
  MyPurchasesDocument,
  UpdatePurchaseDocument,
  type MyPurchasesQuery,
  type UserCategoryNameFragment,
} from '../gql/graphql';
import { useMutation, useQuery } from '../hooks';
import { LiveStatus, useSubscription } from '../live';

const PAGE = 10;
type Purchase = NonNullable<MyPurchasesQuery['me']>['purchases']['nodes'][number];

export function PurchasesPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const result = useQuery(MyPurchasesDocument, { first: PAGE, after: cursors[cursors.length - 1] ?? null });
  const me = result.data?.me;
  const connection = me?.purchases;
  // A purchase recorded (here, or bought in another tab): the page shows it, newest first.
  const live = useSubscription(LivePurchasesDocument, {}, result.reload, { onResume: result.reload });
  return (
    <section aria-labelledby="purchases-heading">
      <h1 id="purchases-heading">My purchases</h1>
      <LiveStatus state={live.state} />
      <ErrorText error={result.error ?? live.error} />
      {connection && <p className="count">{connection.totalCount} {connection.totalCount === 1 ? 'purchase' : 'purchases'}</p>}
      <NameForm label="New category for purchases" action="Add category" document={CreateUserCategoryDocument}
        variables={(name) => ({ name })} onDone={result.reload} />
      <ul className="purchases">
        {connection?.nodes.map((purchase) => (
          <PurchaseItem key={purchase.id} purchase={purchase} categories={me?.categories ?? []} onChanged={result.reload} />
        ))}
      </ul>
      <Pager label="Purchase pages" page={cursors.length - 1} hasNext={connection?.pageInfo.hasNextPage ?? false}
        onPrevious={() => setCursors(cursors.slice(0, -1))}
        onNext={() => setCursors([...cursors, connection?.pageInfo.endCursor ?? null])} />
    </section>
  );
}

function PurchaseItem({ purchase, categories, onChanged }: { purchase: Purchase; categories: UserCategoryNameFragment[]; onChanged: () => void }) {
  const update = useMutation(UpdatePurchaseDocument);
  const remove = useMutation(DeletePurchaseDocument);
  const [name, setName] = useState(purchase.name);
  const [confirming, setConfirming] = useState(false);
  const check = purchase.check;
  const headingId = `purchase-${purchase.id}`;

  const rename = async (event: FormEvent) => {
    event.preventDefault();
    if (await update.run({ input: { id: purchase.id, name } })) onChanged();
  };
  const categorise = async (categoryId: string) => {
    if (await update.run({ input: { id: purchase.id, userCategoryId: categoryId || null } })) onChanged();
  };
  const destroy = async () => {
    if (await remove.run({ id: purchase.id })) onChanged();
  };

  return (
    <li className="card purchase" aria-labelledby={headingId} data-purchase={purchase.name}>
      <h2 id={headingId}>{purchase.name}</h2>
      <p>
        {money(purchase.total)} · {purchase.payment === 'CARD' ? 'card' : 'cash'} · {when(purchase.createdAt)}
        {purchase.userCategory && <> · <span className="tag">{purchase.userCategory.name}</span></>}
      </p>
      <p>Check #{check.number} at {check.shop.name}, {check.shop.address}</p>
      <div className="table-wrap" tabIndex={0} role="region" aria-label={`Lines of check #${check.number}`}>
        <table>
          <caption className="visually-hidden">Lines of check #{check.number}</caption>
          <thead>
            <tr><th scope="col">Product</th><th scope="col">Category</th><th scope="col">Qty</th><th scope="col">Price</th><th scope="col">Sum</th></tr>
          </thead>
          <tbody>
            {check.lines.map((line) => (
              <tr key={line.product.id}>
                <td>{line.product.name}</td>
                <td>{line.product.category?.name ?? '—'}</td>
                <td>{line.quantity}</td>
                <td>{money(line.unitPrice)}</td>
                <td>{money(line.total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="row" onSubmit={rename}>
        <Field label={`Rename ${purchase.name}`} value={name} required onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={update.pending}>Rename</button>
      </form>
      <Select label={`Category of ${purchase.name}`} value={purchase.userCategory?.id ?? ''} onChange={categorise}>
        <option value="">No category</option>
        {categories.map((c) => (
          <option key={c.id} value={c.id}>{c.name}</option>
        ))}
      </Select>
      <ErrorText error={update.error} />
      {confirming ? (
        <div className="row">
          <button type="button" className="danger" onClick={destroy} disabled={remove.pending}>Yes, delete {purchase.name}</button>
          <button type="button" onClick={() => setConfirming(false)}>Keep it</button>
        </div>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>Delete…</button>
      )}
      <ErrorText error={remove.error} />
    </li>
  );
}
