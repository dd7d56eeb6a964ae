import { useCallback, useState, type FormEvent } from 'react';

import { ApiError } from '../api';
import { useCart } from '../cart';
import { ErrorText, Field, Pager, Select } from '../components';
import { fieldOf, money } from '../errors';
import {
  BuyDocument,
  LiveStockDocument,
  SearchProductsDocument,
  ShopCatalogDocument,
  type Payment,
  type ProductCardFragment,
} from '../gql/graphql';
import { useMutation, useQuery } from '../hooks';
import { LiveStatus, useSubscription } from '../live';
import { useSession } from '../session';

const PAGE = 20;

export function ShopPage({ shopId }: { shopId: string }) {
  const cart = useCart(shopId);
  const [category, setCategory] = useState('');
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const categoryIds = category ? [category] : null;
  const catalog = useQuery(ShopCatalogDocument, {
    id: shopId,
    categoryIds,
    first: PAGE,
    after: cursors[cursors.length - 1] ?? null,
  });
  const found = useQuery(
    SearchProductsDocument,
    { query, shopIds: [shopId], categoryIds, first: 50 },
    { skip: query === '' },
  );
  const shop = catalog.data?.shop;
  const products = query ? (found.data?.searchProducts ?? []) : (shop?.products.nodes ?? []);
  // Stock as it changes: the shown products' stock from the subscription, over what the page loaded.
  const [stock, setStock] = useState<Record<string, number>>({});
  const productIds = products.map((product) => product.id).sort();
  const onStock = useCallback(
    ({ stockChanged }: { stockChanged: { id: string; stock: number } }) =>
      setStock((known) => ({ ...known, [stockChanged.id]: stockChanged.stock })),
    [],
  );
  const live = useSubscription(LiveStockDocument, { productIds }, onStock, { skip: productIds.length === 0 });

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    setQuery(search.trim());
  };

  if (catalog.data && !shop) return <p>This shop does not exist.</p>;
  return (
    <div className="shop">
      <section aria-labelledby="shop-heading" className="catalog">
        <h1 id="shop-heading">{shop?.name ?? 'Shop'}</h1>
        {shop && <p>{shop.address} · {shop.phone}</p>}
        <ErrorText error={catalog.error} />
        {productIds.length > 0 && <LiveStatus state={live.state} />}
        <ErrorText error={live.error} />
        <form className="filters" role="search" onSubmit={onSearch}>
          <Field label="Search products" type="search" name="query" value={search}
            onChange={(e) => setSearch(e.target.value)} />
          <Select label="Category" value={category} onChange={(value) => { setCategory(value); setCursors([null]); }}>
            <option value="">All categories</option>
            {shop?.categories.map((c) => (
              <option key={c.id} value={c.id}>{c.name}</option>
            ))}
          </Select>
          <button type="submit">Search</button>
          {query && (
            <button type="button" onClick={() => { setSearch(''); setQuery(''); }}>Show all</button>
          )}
        </form>
        <ErrorText error={found.error} />
        <p role="status" className="count">
          {query ? `${products.length} found for “${query}”` : shop ? `${shop.products.totalCount} products` : ''}
        </p>
        <ul className="cards">
          {products.map((product) => (
            <ProductItem key={product.id} product={product} stock={stock[product.id] ?? product.stock}
              onAdd={(quantity) => cart.add({ productId: product.id, name: product.name, price: product.price }, quantity)} />
          ))}
        </ul>
        {!query && (
          <Pager label="Product pages" page={cursors.length - 1} hasNext={shop?.products.pageInfo.hasNextPage ?? false}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors([...cursors, shop?.products.pageInfo.endCursor ?? null])} />
        )}
      </section>
      <CartPanel shopId={shopId} cart={cart} onBought={catalog.reload} />
    </div>
  );
}

function ProductItem({ product, stock, onAdd }: {
  product: ProductCardFragment;
  stock: number;
  onAdd: (quantity: number) => void;
}) {
  const [quantity, setQuantity] = useState(1);
  return (
    <li className="card product" data-product={product.name}>
      <h2>{product.name}</h2>
      {product.description && <p>{product.description}</p>}
      <p>
        <strong>{money(product.price)}</strong> · <span className="stock">{stock}</span> in stock
        {product.category && <> · {product.category.name}</>}
      </p>
      <div className="row">
        <Field label={`Quantity of ${product.name}`} className="qty" type="number" min={1} value={quantity}
          onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))} />
        <button type="button" aria-label={`Add to cart: ${product.name}`} onClick={() => onAdd(quantity)}>
          Add to cart
        </button>
      </div>
    </li>
  );
}

function CartPanel({ shopId, cart, onBought }: { shopId: string; cart: ReturnType<typeof useCart>; onBought: () => void }) {
  const { user } = useSession();
  const buy = useMutation(BuyDocument);
  const [payment, setPayment] = useState<Payment>('CARD');
  const [name, setName] = useState('Groceries');
  const [bought, setBought] = useState<{ number: number; total: number } | null>(null);
  const { lines, attemptKey } = cart.cart;
  const total = lines.reduce((sum, line) => sum + line.price * line.quantity, 0);
  const error = buy.error;
  const stockProblem = error instanceof ApiError && error.code === 'INSUFFICIENT_STOCK' ? error : null;
  const lineError = (productId: string) =>
    stockProblem && String(stockProblem.extensions.productId) === productId ? stockProblem : undefined;
  const nameError = fieldOf(error) === 'purchaseName' ? error : undefined;
  const onLine = stockProblem !== null && lines.some((line) => lineError(line.productId));
  const generalError = error && !onLine && !nameError ? error : null;

  const onBuy = async (event: FormEvent) => {
    event.preventDefault();
    const data = await buy.run({
      input: {
        shopId,
        items: lines.map((line) => ({ productId: line.productId, quantity: line.quantity })),
        payment,
        purchaseName: name,
        idempotencyKey: attemptKey,
      },
    });
    if (data) {
      setBought({ number: data.buy.number, total: data.buy.total });
      cart.clear();
      onBought();
    }
  };
  const change = (action: () => void) => {
    buy.setError(null);
    setBought(null);
    action();
  };

  return (
    <section aria-labelledby="cart-heading" className="cart">
      <h2 id="cart-heading">Cart</h2>
      {bought && (
        <p className="notice" role="status">
          Bought: check #{bought.number}, {money(bought.total)}. <a href="#/purchases">See my purchases</a>
        </p>
      )}
      {lines.length === 0 ? (
        <p>Your cart for this shop is empty.</p>
      ) : (
        <form onSubmit={onBuy}>
          <ul className="lines">
            {lines.map((line) => (
              <li key={line.productId} data-line={line.name}>
                <span>{line.name} · {money(line.price)}</span>
                <Field label={`Quantity of ${line.name} in cart`} className="qty" type="number" min={1}
                  value={line.quantity} error={lineError(line.productId)}
                  onChange={(e) => change(() => cart.setQuantity(line.productId, Math.max(1, Number(e.target.value) || 1)))} />
                <button type="button" onClick={() => change(() => cart.remove(line.productId))}
                  aria-label={`Remove ${line.name} from cart`}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
          <p>Total: <strong>{money(total)}</strong></p>
          <Field label="Name this purchase" value={name} required error={nameError}
            onChange={(e) => setName(e.target.value)} />
          <Select label="Payment" value={payment} onChange={(value) => setPayment(value as Payment)}>
            <option value="CARD">Card</option>
            <option value="CASH">Cash</option>
          </Select>
          <ErrorText error={generalError} />
          {user ? (
            <button type="submit" disabled={buy.pending}>{buy.pending ? 'Buying…' : 'Buy'}</button>
          ) : (
            <p><a href="#/login">Log in to buy</a></p>
          )}
        </form>
      )}
    </section>
  );
}
