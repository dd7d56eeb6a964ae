import { useState, type FormEvent } from 'react';

import { ErrorText, Field } from '../components';
import { when } from '../errors';
import { SetUserDisabledDocument, UserByIdDocument } from '../gql/graphql';
import { useMutation, useQuery } from '../hooks';

/** ADMIN: find a user by id, and disable them (they cannot log in or refresh, and their sessions end at once)
 * or enable them again. */
export function UserAccess() {
  const [draft, setDraft] = useState('');
  const [id, setId] = useState<string | null>(null);
  const found = useQuery(UserByIdDocument, { id: id ?? '' }, { skip: id === null });
  const toggle = useMutation(SetUserDisabledDocument);
  const user = id === null ? null : found.data?.user;

  const onFind = (event: FormEvent) => {
    event.preventDefault();
    toggle.setError(null);
    setId(draft.trim());
  };
  const onToggle = async (disabled: boolean) => {
    if (user && (await toggle.run({ userId: user.id, disabled }))) found.reload();
  };

  return (
    <section aria-labelledby="users-heading">
      <h2 id="users-heading">User access</h2>
      <form className="row" onSubmit={onFind}>
        <Field label="User id" name="user-id" inputMode="numeric" required value={draft}
          onChange={(e) => setDraft(e.target.value)} />
        <button type="submit">Find user</button>
      </form>
      <ErrorText error={id === null ? null : found.error} />
      {id !== null && !found.loading && found.data?.user === null && <p>No user has id {id}.</p>}
      {user && (
        <div className="card" data-user={user.login} aria-labelledby="user-heading">
          <h3 id="user-heading">
            {user.login} <span className={user.disabled ? 'tag' : 'tag ok'}>{user.disabled ? 'disabled' : 'active'}</span>
          </h3>
          <p>
            {user.firstName} {user.secondName} · {user.role} · registered {when(user.registeredAt)} ·{' '}
            {user.sessions.length} live {user.sessions.length === 1 ? 'session' : 'sessions'}
          </p>
          <ErrorText error={toggle.error} />
          {user.disabled ? (
            <button type="button" disabled={toggle.pending} onClick={() => onToggle(false)}>Enable {user.login}</button>
          ) : (
            <button type="button" className="danger" disabled={toggle.pending} onClick={() => onToggle(true)}>
              Disable {user.login}
            </button>
          )}
          <p className="hint">A disabled user cannot log in, and every session of theirs ends at once.</p>
        </div>
      )}
    </section>
  );
}
