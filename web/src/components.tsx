import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { useId, useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react';

import { readable } from './errors';
import { useMutation } from './hooks';

/** An error as a sentence, announced to screen readers; nothing when there is no error. */
export function ErrorText({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" id={id}>
      {typeof error === 'string' ? error : readable(error)}
    </p>
  );
}

/** A labelled input with its own error message under it. */
export function Field({
  label,
  error,
  ...input
}: { label: string; error?: unknown } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined} {...input} />
      <ErrorText error={error} id={errorId} />
    </div>
  );
}

/** A one-field form that runs `document` with the name typed (`variables` makes them), then clears itself and
 * calls `onDone`; the mutation's error shows under the field. */
export function NameForm<TResult, TVariables>({
  label,
  action,
  document,
  variables,
  onDone,
}: {
  label: string;
  action: string;
  document: TypedDocumentNode<TResult, TVariables>;
  variables: (name: string) => TVariables;
  onDone: () => void;
}) {
  const mutation = useMutation(document);
  const [name, setName] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await mutation.run(variables(name))) {
      setName('');
      onDone();
    }
  };
  return (
    <form onSubmit={submit} className="row">
      <Field label={label} required value={name} error={mutation.error} onChange={(e) => setName(e.target.value)} />
      <button type="submit" disabled={mutation.pending}>{action}</button>
    </form>
  );
}

export function Select({
  label,
  value,
  onChange,
  children,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        {children}
      </select>
    </div>
  );
}

/** Previous / next over a cursor-paginated connection. */
export function Pager({
  page,
  hasNext,
  onPrevious,
  onNext,
  label,
}: {
  page: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  label: string;
}) {
  if (page === 0 && !hasNext) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={onPrevious} disabled={page === 0}>
        Previous page
      </button>
      <span>Page {page + 1}</span>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next page
      </button>
    </nav>
  );
}
