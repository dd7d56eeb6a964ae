import { useEffect, useState, type FormEvent, type ReactNode } from 'react';

import { ErrorText, Field, NameForm, Select } from '../components';
import { fieldError, formError, money } from '../errors';
import {
  AddProductDocument,
  CreateCategoryDocument,
  CreateShopDocument,
  DeliverDocument,
  ShopCatalogDocument,
  ShopsDocument,
  UpdateProductDocument,
  UpdateShopDocument,
  type CategoryNameFragment,
  type ProductCardFragment,
} from '../gql/graphql';
import { useMutation, useQuery } from '../hooks';
import { UserAccess } from './UserAccess';

type ShopForm = { name: string; address: string; phone: string };
type ProductForm = { name: string; description: string; price: string; categoryId: string };

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
        <ShopFields nameLabel="Shop name" form={form} onChange={setForm} error={create.error} />
        <ErrorText error={formError(create.error)} />
        <button type="submit" disabled={create.pending}>Create shop</button>
      </form>
    </details>
  );
}

function ManageShop({ shopId, onRenamed }: { shopId: string; onRenamed: () => void }) {
  const catalog = useQuery(ShopCatalogDocument, { id: shopId, categoryIds: null, first: 100, after: null });
  const shop = catalog.data?.shop;
  const update = useMutation(UpdateShopDocument);
  const [edit, setEdit] = useState<ShopForm | null>(null);
  useEffect(() => {
    if (shop && !edit) setEdit({ name: shop.name, address: shop.address, phone: shop.phone });
  }, [shop, edit]);
  if (!shop || !edit) return <ErrorText error={catalog.error} />;

  const saveShop = async (event: FormEvent) => {
    event.preventDefault();
    if (await update.run({ input: { id: shopId, ...edit } })) onRenamed();
  };
  return (
    <>
      <section aria-labelledby="shop-edit-heading">
        <h2 id="shop-edit-heading">{shop.name}</h2>
        <form onSubmit={saveShop} className="grid">
          <ShopFields nameLabel="Name" form={edit} onChange={setEdit} error={update.error} />
          <ErrorText error={formError(update.error)} />
          <button type="submit" disabled={update.pending}>Save shop</button>
        </form>
      </section>
      <section aria-labelledby="categories-heading">
        <h2 id="categories-heading">Categories</h2>
        <p>{shop.categories.map((c) => c.name).join(', ') || 'None yet.'}</p>
        <NameForm label="New category" action="Add category" document={CreateCategoryDocument}
          variables={(name) => ({ shopId, name })} onDone={catalog.reload} />
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

/** A shop's name, address and phone, each with its error. */
function ShopFields({ nameLabel, form, onChange, error }: { nameLabel: string; form: ShopForm; onChange: (form: ShopForm) => void; error: unknown }) {
  return (
    <>
      <Field label={nameLabel} required value={form.name} error={fieldError(error, 'name')}
        onChange={(e) => onChange({ ...form, name: e.target.value })} />
      <Field label="Address" required value={form.address} error={fieldError(error, 'address')}
        onChange={(e) => onChange({ ...form, address: e.target.value })} />
      <Field label="Phone" required value={form.phone} error={fieldError(error, 'phone')}
        onChange={(e) => onChange({ ...form, phone: e.target.value })} />
    </>
  );
}

/** A product's name, description, price (`children` after it) and category, each with its error. */
function ProductFields<F extends ProductForm>({
  labels,
  form,
  onChange,
  error,
  categories,
  children,
}: {
  labels: { name: string; category: string };
  form: F;
  onChange: (form: F) => void;
  error: unknown;
  categories: CategoryNameFragment[];
  children?: ReactNode;
}) {
  return (
    <>
      <Field label={labels.name} required value={form.name} error={fieldError(error, 'name')}
        onChange={(e) => onChange({ ...form, name: e.target.value })} />
      <Field label="Description" value={form.description} error={fieldError(error, 'description')}
        onChange={(e) => onChange({ ...form, description: e.target.value })} />
      <Field label="Price (kopecks)" type="number" min={0} required value={form.price} error={fieldError(error, 'price')}
        onChange={(e) => onChange({ ...form, price: e.target.value })} />
      {children}
      <Select label={labels.category} value={form.categoryId} onChange={(categoryId) => onChange({ ...form, categoryId })}>
        <option value="">No category</option>
        {categories.map((c) => (
          <option key={c.id} value={c.id}>{c.name}</option>
        ))}
      </Select>
    </>
  );
}

function AddProduct({ shopId, categories, onAdded }: { shopId: string; categories: CategoryNameFragment[]; onAdded: () => void }) {
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
        <ProductFields labels={{ name: 'Product name', category: 'Category of the new product' }} form={form}
          onChange={setForm} error={add.error} categories={categories}>
          <Field label="Initial stock" type="number" min={0} required value={form.stock} error={fieldError(add.error, 'stock')}
            onChange={(e) => setForm({ ...form, stock: e.target.value })} />
        </ProductFields>
        <ErrorText error={formError(add.error)} />
        <button type="submit" disabled={add.pending}>Add product</button>
      </form>
    </details>
  );
}

function AdminProduct({ product, categories, onChanged }: { product: ProductCardFragment; categories: CategoryNameFragment[]; onChanged: () => void }) {
  const update = useMutation(UpdateProductDocument);
  const deliver = useMutation(DeliverDocument);
  const [form, setForm] = useState<ProductForm>({
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
          <ProductFields labels={{ name: 'Name', category: 'Category' }} form={form} onChange={setForm}
            error={update.error} categories={categories} />
          <ErrorText error={formError(update.error)} />
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
