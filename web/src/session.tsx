// Who is logged in: the token lives in sessionStorage (this tab's session), with the user it names.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

import { request, setUnauthenticatedHandler } from './api';
import { readable } from './errors';
import type { Role } from './gql/graphql';

export interface SessionUser {
  id: string;
  login: string;
  firstName: string;
  role: Role;
}

interface Stored {
  token: string;
  user: SessionUser;
}

interface Session {
  token: string | null;
  user: SessionUser | null;
  /** Why the user was sent to the login page (an expired token), shown there once. */
  notice: string | null;
  logIn: (token: string, user: SessionUser) => void;
  logOut: (notice?: string) => void;
  /** `request` with this session's token. */
  call: <TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables) => Promise<TResult>;
}

const KEY = 'service-tree.session';
const SessionContext = createContext<Session | null>(null);

function load(): Stored | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [stored, setStored] = useState<Stored | null>(load);
  const [notice, setNotice] = useState<string | null>(null);

  const logIn = useCallback((token: string, user: SessionUser) => {
    sessionStorage.setItem(KEY, JSON.stringify({ token, user }));
    setStored({ token, user });
    setNotice(null);
  }, []);
  const logOut = useCallback((why?: string) => {
    sessionStorage.removeItem(KEY);
    setStored(null);
    setNotice(why ?? null);
    window.location.hash = '#/login';
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler((error) => logOut(readable(error)));
  }, [logOut]);

  const token = stored?.token ?? null;
  const call = useCallback(
    <TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables) =>
      request(document, variables, token),
    [token],
  );

  const value = useMemo<Session>(
    () => ({ token, user: stored?.user ?? null, notice, logIn, logOut, call }),
    [token, stored, notice, logIn, logOut, call],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
