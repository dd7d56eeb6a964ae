import { useState, type FormEvent } from 'react';

import { ErrorText, Field } from '../components';
import { fieldOf, when } from '../errors';
import { ChangePasswordDocument, EndSessionDocument, LogoutEverywhereDocument, MySessionsDocument } from '../gql/graphql';
import { useMutation, useQuery } from '../hooks';
import { useSession } from '../session';

/** Your sessions (each login, in each browser tab, is one): end any of them, or all; change your password. */
export function SessionsPage() {
  const sessions = useQuery(MySessionsDocument, {});
  const { logOut, leave } = useSession();
  const end = useMutation(EndSessionDocument);
  const everywhere = useMutation(LogoutEverywhereDocument);
  // This session first, then the others newest first (as the API lists them).
  const list = [...(sessions.data?.me?.sessions ?? [])].sort((a, b) => Number(b.current) - Number(a.current));

  const onEnd = async (id: string) => {
    if ((await end.run({ id })) !== null) sessions.reload();
  };
  const onEverywhere = async () => {
    const data = await everywhere.run({});
    if (data) {
      const count = data.logoutEverywhere;
      leave(`You logged out everywhere: ${count} ${count === 1 ? 'session' : 'sessions'} ended, this one included.`);
    }
  };

  return (
    <div className="columns">
      <section aria-labelledby="sessions-heading">
        <h1 id="sessions-heading">Your sessions</h1>
        <p className="hint">
          Each login is a session: every browser tab you log in from has its own. End any you do not recognise.
        </p>
        <ErrorText error={sessions.error ?? end.error ?? everywhere.error} />
        <ul className="cards sessions">
          {list.map((session) => (
            <li key={session.id} className="card" data-session={session.id} aria-labelledby={`session-${session.id}`}>
              <h2 id={`session-${session.id}`}>
                {session.current ? 'This session' : 'Another session'}
                {session.current && <> <span className="tag ok">current</span></>}
              </h2>
              <dl>
                <dt>Logged in</dt>
                <dd>{when(session.createdAt)}</dd>
                <dt>Last used</dt>
                <dd>{when(session.lastUsedAt)}</dd>
              </dl>
              {session.current ? (
                <button type="button" onClick={() => logOut()}>Log out of this session</button>
              ) : (
                <button type="button" className="danger" disabled={end.pending} onClick={() => onEnd(session.id)}
                  aria-label={`End the session from ${when(session.createdAt)}`}>
                  End
                </button>
              )}
            </li>
          ))}
        </ul>
        {!sessions.loading && list.length === 0 && !sessions.error && <p>No live sessions.</p>}
        <button type="button" className="danger" disabled={everywhere.pending} onClick={onEverywhere}>
          Log out everywhere
        </button>
      </section>
      <ChangePassword onChanged={sessions.reload} />
    </div>
  );
}

/** Current and new password; the other sessions end, and this one goes on with the answer's new tokens. */
function ChangePassword({ onChanged }: { onChanged: () => void }) {
  const { renew } = useSession();
  const empty = { currentPassword: '', newPassword: '', repeat: '' };
  const [form, setForm] = useState(empty);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const mismatch = form.repeat !== '' && form.repeat !== form.newPassword;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (pending || mismatch) return;
    setPending(true);
    setError(null);
    setDone(false);
    try {
      const { currentPassword, newPassword } = form;
      await renew(ChangePasswordDocument, { currentPassword, newPassword }, (data) => data.changePassword);
      setForm(empty);
      setDone(true);
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };
  const on = (field: string) => (fieldOf(error) === field ? error : undefined);

  return (
    <section aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <p className="hint">Your other sessions end; this one stays logged in.</p>
      {done && (
        <p className="notice" role="status">
          Password changed. Your other sessions have ended.
        </p>
      )}
      <form onSubmit={submit}>
        <Field label="Current password" name="current-password" type="password" autoComplete="current-password"
          required value={form.currentPassword} error={on('currentPassword')}
          onChange={(e) => setForm({ ...form, currentPassword: e.target.value })} />
        <Field label="New password (8 characters or more)" name="new-password" type="password"
          autoComplete="new-password" required minLength={8} value={form.newPassword} error={on('newPassword')}
          onChange={(e) => setForm({ ...form, newPassword: e.target.value })} />
        <Field label="New password again" name="repeat-password" type="password" autoComplete="new-password"
          required value={form.repeat} error={mismatch ? 'The two new passwords differ.' : undefined}
          onChange={(e) => setForm({ ...form, repeat: e.target.value })} />
        <ErrorText error={fieldOf(error) ? null : error} />
        <button type="submit" disabled={pending}>Change password</button>
      </form>
    </section>
  );
}
