import { useCallback, useEffect, useState, type FormEvent } from 'react';

import { ErrorText, Field, NameForm, Select } from '../components';
import { fieldError, formError, when } from '../errors';
import {
  AllProductsDocument,
  CreateCraftDocument,
  CreateFactoryDocument,
  FactoriesDocument,
  LiveRunsDocument,
  PauseCraftDocument,
  ResumeCraftDocument,
  type FactoriesQuery,
  type LiveRunsSubscription,
} from '../gql/graphql';
import { useMutation, useQuery } from '../hooks';
import { LiveStatus, useSubscription } from '../live';

const RUNS = 5;
type Craft = FactoriesQuery['factories'][number]['crafts'][number];
type RunChange = LiveRunsSubscription['craftRunChanged'];

/** A craft as the page shows it: as loaded, then with each change of one of its runs (newest runs first). */
function withChange(craft: Craft, change: RunChange): Craft {
  const { craft: changed, ...run } = change;
  const runs = [run, ...craft.runs.filter((shown) => shown.id !== run.id)]
    .sort((a, b) => b.scheduledAt.localeCompare(a.scheduledAt))
    .slice(0, RUNS);
  return {
    ...craft,
    active: changed.active,
    nextRunAt: changed.nextRunAt,
    product: { ...craft.product, stock: changed.product.stock },
    runs,
  };
}

/** Factories and their crafts, with runs and stock as they happen (a subscription to every run's changes;
 * ADMIN). */
export function FactoriesPage() {
  const factories = useQuery(FactoriesDocument, { runs: RUNS });
  const [changes, setChanges] = useState<Record<string, RunChange[]>>({});
  const onRun = useCallback(({ craftRunChanged }: LiveRunsSubscription) => {
    setChanges((known) => ({
      ...known,
      [craftRunChanged.craft.id]: [...(known[craftRunChanged.craft.id] ?? []), craftRunChanged].slice(-RUNS * 4),
    }));
  }, []);
  // Changes apply over the data last loaded: a fresh load already holds them.
  useEffect(() => setChanges({}), [factories.data]);
  // Back after a lost connection: reload, since runs may have changed meanwhile.
  const onResume = factories.reload;
  const live = useSubscription(LiveRunsDocument, {}, onRun, { onResume });
  const list = (factories.data?.factories ?? []).map((factory) => ({
    ...factory,
    crafts: factory.crafts.map((craft) => (changes[craft.id] ?? []).reduce(withChange, craft)),
  }));
  return (
    <div className="admin">
      <h1>Factories</h1>
      <LiveStatus state={live.state} />
      <ErrorText error={factories.error ?? live.error} />
      <NameForm label="New factory" action="Create factory" document={CreateFactoryDocument}
        variables={(name) => ({ name })} onDone={factories.reload} />
      {list.length > 0 && <CreateCraft factories={list} onCreated={factories.reload} />}
      {list.map((factory) => (
        <section key={factory.id} aria-labelledby={`factory-${factory.id}`} className="factory">
          <h2 id={`factory-${factory.id}`}>{factory.name}</h2>
          {factory.crafts.length === 0 && <p>No crafts yet.</p>}
          <ul className="cards">
            {factory.crafts.map((craft) => (
              <CraftItem key={craft.id} craft={craft} onChanged={factories.reload} />
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function CraftItem({ craft, onChanged }: { craft: Craft; onChanged: () => void }) {
  const pause = useMutation(PauseCraftDocument);
  const resume = useMutation(ResumeCraftDocument);
  const toggle = async () => {
    const done = craft.active ? await pause.run({ id: craft.id }) : await resume.run({ id: craft.id });
    if (done) onChanged();
  };
  const headingId = `craft-${craft.id}`;
  return (
    <li className="card craft" aria-labelledby={headingId} data-craft={craft.product.name}>
      <h3 id={headingId}>{craft.product.name}</h3>
      <p>
        {craft.countPerRun} every {craft.intervalSeconds} s for {craft.product.shop.name} ·{' '}
        stock <strong className="stock">{craft.product.stock}</strong>
      </p>
      <p>
        <span className={craft.active ? 'tag ok' : 'tag'}>{craft.active ? 'active' : 'paused'}</span>{' '}
        next run: {craft.active ? when(craft.nextRunAt) : '—'}
      </p>
      <button type="button" onClick={toggle} disabled={pause.pending || resume.pending}>
        {craft.active ? `Pause ${craft.product.name}` : `Resume ${craft.product.name}`}
      </button>
      <ErrorText error={pause.error ?? resume.error} />
      <div className="table-wrap" tabIndex={0} role="region" aria-label={`Recent runs of ${craft.product.name}`}>
        <table className="runs">
          <caption>Recent runs</caption>
          <thead>
            <tr><th scope="col">Scheduled</th><th scope="col">Status</th><th scope="col">Tries</th><th scope="col">Error</th></tr>
          </thead>
          <tbody>
            {craft.runs.map((run) => (
              <tr key={run.id}>
                <td>{new Date(run.scheduledAt).toLocaleTimeString()}</td>
                <td className={`status ${run.status.toLowerCase()}`}>{run.status}</td>
                <td>{run.attempts}</td>
                <td>{run.error ?? ''}</td>
              </tr>
            ))}
            {craft.runs.length === 0 && (
              <tr><td colSpan={4}>No runs yet.</td></tr>
            )}
          </tbody>
        </table>
      </div>
    </li>
  );
}

function CreateCraft({ factories, onCreated }: { factories: FactoriesQuery['factories']; onCreated: () => void }) {
  const products = useQuery(AllProductsDocument, {});
  const create = useMutation(CreateCraftDocument);
  const [form, setForm] = useState({ factoryId: '', productId: '', countPerRun: '1', intervalSeconds: '10' });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input = {
      factoryId: form.factoryId || (factories[0]?.id ?? ''),
      productId: form.productId || (products.data?.products.nodes[0]?.id ?? ''),
      countPerRun: Number(form.countPerRun),
      intervalSeconds: Number(form.intervalSeconds),
    };
    if (await create.run({ input })) onCreated();
  };
  return (
    <details>
      <summary>New craft</summary>
      <form onSubmit={submit}>
        <Select label="Factory" value={form.factoryId} onChange={(factoryId) => setForm({ ...form, factoryId })}>
          {factories.map((f) => (
            <option key={f.id} value={f.id}>{f.name}</option>
          ))}
        </Select>
        <Select label="Product" value={form.productId} onChange={(productId) => setForm({ ...form, productId })}>
          {products.data?.products.nodes.map((p) => (
            <option key={p.id} value={p.id}>{p.name} ({p.shop.name})</option>
          ))}
        </Select>
        <Field label="Units per run" type="number" min={1} required value={form.countPerRun} error={fieldError(create.error, 'countPerRun')}
          onChange={(e) => setForm({ ...form, countPerRun: e.target.value })} />
        <Field label="Every (seconds)" type="number" min={1} required value={form.intervalSeconds}
          error={fieldError(create.error, 'intervalSeconds')} onChange={(e) => setForm({ ...form, intervalSeconds: e.target.value })} />
        <ErrorText error={formError(create.error)} />
        <button type="submit" disabled={create.pending}>Create craft</button>
      </form>
    </details>
  );
}
