import { ApiError } from './api';

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
      if (error.message === 'Token expired') return 'Your session has expired. Please log in again.';
      if (error.message === 'Invalid token') return 'Your session is no longer valid. Please log in again.';
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
