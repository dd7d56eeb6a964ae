import { useEffect, useState, type FormEvent } from 'react';

import { ErrorText, Field, Select } from '../components';
import { fieldOf, money } from '../errors';
import {
  AddProductDocument,
  CreateCategoryDocument,
  CreateShopDocument,
  DeliverDocument,
  ShopCatalogDocument,
  ShopsDocument,
  UpdateProductDocument,
  UpdateShopDocument,
  type ProductCardFragment,
} from '../gql/graphql';
import { useMutation, useQuery } from '../hooks';
import { UserAccess } from './UserAccess';

const on = (error: unknown, field: string) => (fieldOf(error) === field ? error : undefined);
const rest = (error: unknown) => (fieldOf(error) ? null : error);

function newKey(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

/** Shops, their categories and products, and stock top-ups (ADMIN). */
export function AdminPage() {
  const shops = useQuery(ShopsDocument, { first: 100, after: null });
  const [shopId, setShopId] = useState('');
  const nodes = shops.data?.shops.nodes ?? [];
  useEffect(() => {
    if (!shopId && nodes[0]) setShopId(nodes[0].id);
  }, [shopId, nodes]);
  return (
    <div className="admin">
      <h1>Catalog</h1>
      <ErrorText error={shops.error} />
      <CreateShop onCreated={(id) => { shops.reload(); setShopId(id); }} />
      {nodes.length > 0 && (
        <Select label="Shop to manage" value={shopId} onChange={setShopId}>
          {nodes.map((shop) => (
            <option key={shop.id} value={shop.id}>{shop.name}</option>
          ))}
        </Select>
      )}
      {shopId && <ManageShop key={shopId} shopId={shopId} onRenamed={shops.reload} />}
      <UserAccess />
    </div>
  );
}

function CreateShop({ onCreated }: { onCreated: (id: string) => void }) {
  const create = useMutation(CreateShopDocument);
  const [form, setForm] = useState({ name: '', address: '', phone: '' });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const data = await create.run({ input: form });
    if (data) {
      setForm({ name: '', address: '', phone: '' });
      onCreated(data.createShop.id);
    }
  };
  return (
    <details>
      <summary>New shop</summary>
      <form onSubmit={submit}>
        <Field label="Shop name" required value={form.name} error={on(create.error, 'name')}
          onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <Field label="Address" required value={form.address} error={on(create.error, 'address')}
          onChange={(e) => setForm({ ...form, address: e.target.value })} />
        <Field label="Phone" required value={form.phone} error={on(create.error, 'phone')}
          onChange={(e) => setForm({ ...form, phone: e.target.value })} />
        <ErrorText error={rest(create.error)} />
        <button type="submit" disabled={create.pending}>Create shop</button>
      </form>
    </details>
  );
}

function ManageShop({ shopId, onRenamed }: { shopId: string; onRenamed: () => void }) {
  const catalog = useQuery(ShopCatalogDocument, { id: shopId, categoryIds: null, first: 100, after: null });
  const shop = catalog.data?.shop;
  const update = useMutation(UpdateShopDocument);
  const addCategory = useMutation(CreateCategoryDocument);
  const [edit, setEdit] = useState<{ name: string; address: string; phone: string } | null>(null);
  const [categoryName, setCategoryName] = useState('');
  useEffect(() => {
    if (shop && !edit) setEdit({ name: shop.name, address: shop.address, phone: shop.phone });
  }, [shop, edit]);
  if (!shop || !edit) return <ErrorText error={catalog.error} />;

  const saveShop = async (event: FormEvent) => {
    event.preventDefault();
    if (await update.run({ input: { id: shopId, ...edit } })) onRenamed();
  };
  const createCategory = async (event: FormEvent) => {
    event.preventDefault();
    if (await addCategory.run({ shopId, name: categoryName })) {
      setCategoryName('');
      catalog.reload();
    }
  };
  return (
    <>
      <section aria-labelledby="shop-edit-heading">
        <h2 id="shop-edit-heading">{shop.name}</h2>
        <form onSubmit={saveShop} className="grid">
          <Field label="Name" required value={edit.name} error={on(update.error, 'name')}
            onChange={(e) => setEdit({ ...edit, name: e.target.value })} />
          <Field label="Address" required value={edit.address} error={on(update.error, 'address')}
            onChange={(e) => setEdit({ ...edit, address: e.target.value })} />
          <Field label="Phone" required value={edit.phone} error={on(update.error, 'phone')}
            onChange={(e) => setEdit({ ...edit, phone: e.target.value })} />
          <ErrorText error={rest(update.error)} />
          <button type="submit" disabled={update.pending}>Save shop</button>
        </form>
      </section>
      <section aria-labelledby="categories-heading">
        <h2 id="categories-heading">Categories</h2>
        <p>{shop.categories.map((c) => c.name).join(', ') || 'None yet.'}</p>
        <form onSubmit={createCategory} className="row">
          <Field label="New category" required value={categoryName} error={addCategory.error}
            onChange={(e) => setCategoryName(e.target.value)} />
          <button type="submit" disabled={addCategory.pending}>Add category</button>
        </form>
      </section>
      <section aria-labelledby="products-heading">
        <h2 id="products-heading">Products</h2>
        <AddProduct shopId={shopId} categories={shop.categories} onAdded={catalog.reload} />
        <ul className="cards">
          {shop.products.nodes.map((product) => (
            <AdminProduct key={product.id} product={product} categories={shop.categories} onChanged={catalog.reload} />
          ))}
        </ul>
      </section>
    </>
  );
}

type Category = { id: string; name: string };

function AddProduct({ shopId, categories, onAdded }: { shopId: string; categories: Category[]; onAdded: () => void }) {
  const add = useMutation(AddProductDocument);
  const empty = { name: '', description: '', price: '', stock: '0', categoryId: '' };
  const [form, setForm] = useState(empty);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input = {
      shopId,
      name: form.name,
      description: form.description,
      price: Number(form.price),
      stock: Number(form.stock),
      categoryId: form.categoryId || null,
    };
    if (await add.run({ input })) {
      setForm(empty);
      onAdded();
    }
  };
  return (
    <details>
      <summary>New product</summary>
      <form onSubmit={submit}>
        <Field label="Product name" required value={form.name} error={on(add.error, 'name')}
          onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <Field label="Description" value={form.description} error={on(add.error, 'description')}
          onChange={(e) => setForm({ ...form, description: e.target.value })} />
        <Field label="Price (kopecks)" type="number" min={0} required value={form.price} error={on(add.error, 'price')}
          onChange={(e) => setForm({ ...form, price: e.target.value })} />
        <Field label="Initial stock" type="number" min={0} required value={form.stock} error={on(add.error, 'stock')}
          onChange={(e) => setForm({ ...form, stock: e.target.value })} />
        <Select label="Category of the new product" value={form.categoryId} onChange={(categoryId) => setForm({ ...form, categoryId })}>
          <option value="">No category</option>
          {categories.map((c) => (
            <option key={c.id} value={c.id}>{c.name}</option>
          ))}
        </Select>
        <ErrorText error={rest(add.error)} />
        <button type="submit" disabled={add.pending}>Add product</button>
      </form>
    </details>
  );
}

function AdminProduct({ product, categories, onChanged }: { product: ProductCardFragment; categories: Category[]; onChanged: () => void }) {
  const update = useMutation(UpdateProductDocument);
  const deliver = useMutation(DeliverDocument);
  const [form, setForm] = useState({
    name: product.name,
    description: product.description,
    price: String(product.price),
    categoryId: product.category?.id ?? '',
  });
  const [count, setCount] = useState('10');
  // One key per top-up attempt: a retry after a lost answer adds the stock once.
  const [deliveryKey, setDeliveryKey] = useState(newKey);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const input = {
      id: product.id,
      name: form.name,
      description: form.description,
      price: Number(form.price),
      ...(form.categoryId ? { categoryId: form.categoryId } : {}),
    };
    if (await update.run({ input })) onChanged();
  };
  const topUp = async (event: FormEvent) => {
    event.preventDefault();
    if (await deliver.run({ input: { productId: product.id, count: Number(count), key: deliveryKey } })) {
      setDeliveryKey(newKey());
      onChanged();
    }
  };
  return (
    <li className="card" data-product={product.name}>
      <h3>{product.name}</h3>
      <p>{money(product.price)} · <span className="stock">{product.stock}</span> in stock · {product.category?.name ?? 'no category'}</p>
      <details>
        <summary>Edit {product.name}</summary>
        <form onSubmit={save}>
          <Field label="Name" required value={form.name} error={on(update.error, 'name')}
            onChange={(e) => setForm({ ...form, name: e.target.value })} />
          <Field label="Description" value={form.description} error={on(update.error, 'description')}
            onChange={(e) => setForm({ ...form, description: e.target.value })} />
          <Field label="Price (kopecks)" type="number" min={0} required value={form.price} error={on(update.error, 'price')}
            onChange={(e) => setForm({ ...form, price: e.target.value })} />
          <Select label="Category" value={form.categoryId} onChange={(categoryId) => setForm({ ...form, categoryId })}>
            <option value="">No category</option>
            {categories.map((c) => (
              <option key={c.id} value={c.id}>{c.name}</option>
            ))}
          </Select>
          <ErrorText error={rest(update.error)} />
          <button type="submit" disabled={update.pending}>Save product</button>
        </form>
      </details>
      <form onSubmit={topUp} className="row">
        <Field label={`Deliver units of ${product.name}`} type="number" min={1} required value={count}
          error={deliver.error} onChange={(e) => { setCount(e.target.value); setDeliveryKey(newKey()); }} />
        <button type="submit" disabled={deliver.pending}>Deliver</button>
      </form>
    </li>
  );
}
