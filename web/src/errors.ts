import { ApiError } from './api';

const LOG_IN_AGAIN = 'Please log in again.';
// Why a token or a refresh token is refused, or a session ended, as the API says it (docs/api.md,
// "Authentication and roles"), and what the user should read on the login page.
const REFUSALS = new Map<string, string>(Object.entries({
  'Token expired': `Your session has expired. ${LOG_IN_AGAIN}`,
  'Refresh token expired': `Your session has expired. ${LOG_IN_AGAIN}`,
  'Invalid token': `Your session is no longer valid. ${LOG_IN_AGAIN}`,
  'Invalid refresh token': `Your session is no longer valid. ${LOG_IN_AGAIN}`,
  'Session ended: you logged out': `You logged out of this session. ${LOG_IN_AGAIN}`,
  'Session ended: you logged out everywhere': `You logged out everywhere, which ended this session too. ${LOG_IN_AGAIN}`,
  'Session ended: the password was changed': `Your password was changed, which ended this session. Please log in with the new password.`,
  'Session ended: it was ended from another session': `This session was ended from another of your sessions. ${LOG_IN_AGAIN}`,
  'Session ended: the account is disabled': 'Your account has been disabled. Contact the shop to have it enabled.',
  'This account is disabled': 'Your account has been disabled. Contact the shop to have it enabled.',
  'Session ended: its refresh token was used twice':
    `This session was ended for your safety: its refresh token was used twice, so a copy of it may exist. ${LOG_IN_AGAIN}`,
  'That refresh token is not yours; its session has ended': `This session was ended for your safety. ${LOG_IN_AGAIN}`,
}));

/** Whether the API refused the token a request carried (expired, invalid, its session ended), as opposed to
 * an UNAUTHENTICATED answer of the operation itself (a wrong password at login). */
export function refusesToken(error: unknown): boolean {
  if (!(error instanceof ApiError) || error.code !== 'UNAUTHENTICATED') return false;
  return error.status === 401 || REFUSALS.has(error.message) || error.message.startsWith('Session ended');
}

/** A sentence a person can act on, for any error the API (or the network) gives: the API's own message for
 * the codes whose messages are written for users, a sentence of ours for the rest (never a server's detail). */
export function readable(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Please try again.';
  const ext = error.extensions;
  switch (error.code) {
    case 'INSUFFICIENT_STOCK':
      return typeof ext.available === 'number'
        ? `Not enough in stock: only ${ext.available} left.`
        : 'Not enough in stock.';
    case 'UNAUTHENTICATED':
      if (REFUSALS.has(error.message)) return REFUSALS.get(error.message)!;
      if (error.message.startsWith('Session ended: ')) {
        return `Your session ended: ${error.message.slice('Session ended: '.length)}. ${LOG_IN_AGAIN}`;
      }
      return error.message;
    case 'FORBIDDEN':
      return error.message || 'You are not allowed to do that.';
    case 'NOT_FOUND':
      return error.message || 'It no longer exists (someone may have deleted it).';
    case 'BAD_USER_INPUT':
    case 'CONFLICT':
      return error.message;
    case 'RATE_LIMITED':
      return typeof ext.retryAfterSeconds === 'number'
        ? `Too many attempts. Try again in ${Math.ceil(ext.retryAfterSeconds / 60)} minute(s).`
        : 'Too many attempts. Try again later.';
    case 'NETWORK':
      return error.message;
    case 'PERSISTED_QUERY_NOT_FOUND':
    case 'PERSISTED_QUERY_ONLY':
      return 'This page is out of date. Reload it to get the current version.';
    default:
      return 'The shop had a problem. Please try again in a moment.';
  }
}

/** The input field an error is about (BAD_USER_INPUT's `field`), for showing it next to that field. */
export function fieldOf(error: unknown): string | undefined {
  return error instanceof ApiError ? error.field : undefined;
}

/** `error` when it is about `field`, for showing it next to that field; nothing otherwise. */
export function fieldError(error: unknown, field: string): unknown {
  return fieldOf(error) === field ? error : undefined;
}

/** `error` when it is about no field, for showing it under the whole form; nothing otherwise. */
export function formError(error: unknown): unknown {
  return fieldOf(error) ? null : error;
}

export function money(minor: number): string {
  return `${(minor / 100).toFixed(2)} ₽`;
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}
