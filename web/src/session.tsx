// Who is logged in, for React: the session's credentials (credentials.ts) as state, and calls that carry them.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createContext, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';

import { credentials, type SessionUser } from './credentials';
import type { SessionPairFragment } from './gql/graphql';

export type { SessionUser } from './credentials';

interface Session {
  user: SessionUser | null;
  /** Why the user was sent to the login page (an expired or ended session), shown there once. */
  notice: string | null;
  /** Start the session of a login's or registration's answer. */
  logIn: (pair: SessionPairFragment) => void;
  /** End this session (the API too) and go to the login page. */
  logOut: () => Promise<void>;
  /** Forget a session the API has already ended (logoutEverywhere), going to the login page with `notice`. */
  leave: (notice: string) => void;
  /** `request` with this session's access token, refreshed when due or refused once. */
  call: <TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables) => Promise<TResult>;
  /** `call` for an operation answering this session's next pair (changePassword), which replaces the current. */
  renew: typeof credentials.renew;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const state = useSyncExternalStore(credentials.subscribe, credentials.snapshot);
  const value = useMemo<Session>(
    () => ({
      user: state.user,
      notice: state.notice,
      logIn: (pair) => credentials.begin(pair),
      logOut: () => credentials.logOut(),
      leave: (notice) => credentials.end(notice),
      call: (document, variables) => credentials.call(document, variables),
      renew: (document, variables, pairOf) => credentials.renew(document, variables, pairOf),
    }),
    [state],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
