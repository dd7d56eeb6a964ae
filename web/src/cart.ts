// A cart per shop, kept in sessionStorage so that nothing is lost on a failed buy or a reload.
import { useCallback, useEffect, useState } from 'react';

export interface CartLine {
  productId: string;
  name: string;
  price: number;
  quantity: number;
}

export interface Cart {
  lines: CartLine[];
  /** The idempotency key of the current checkout attempt: the same until the cart changes or the buy succeeds. */
  attemptKey: string;
}

function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

const storageKey = (shopId: string) => `service-tree.cart.${shopId}`;

function load(shopId: string): Cart {
  try {
    const raw = sessionStorage.getItem(storageKey(shopId));
    if (raw) return JSON.parse(raw) as Cart;
  } catch {
    // a damaged entry is an empty cart
  }
  return { lines: [], attemptKey: newKey() };
}

export function useCart(shopId: string) {
  const [cart, setCart] = useState<Cart>(() => load(shopId));
  useEffect(() => setCart(load(shopId)), [shopId]);
  useEffect(() => sessionStorage.setItem(storageKey(shopId), JSON.stringify(cart)), [shopId, cart]);

  const add = useCallback((line: Omit<CartLine, 'quantity'>, quantity: number) => {
    setCart((current) => {
      const existing = current.lines.find((l) => l.productId === line.productId);
      const lines = existing
        ? current.lines.map((l) => (l.productId === line.productId ? { ...l, quantity: l.quantity + quantity } : l))
        : [...current.lines, { ...line, quantity }];
      return { lines, attemptKey: newKey() };
    });
  }, []);
  const setQuantity = useCallback((productId: string, quantity: number) => {
    setCart((current) => ({
      lines: current.lines.map((l) => (l.productId === productId ? { ...l, quantity } : l)),
      attemptKey: newKey(),
    }));
  }, []);
  const remove = useCallback((productId: string) => {
    setCart((current) => ({ lines: current.lines.filter((l) => l.productId !== productId), attemptKey: newKey() }));
  }, []);
  const clear = useCallback(() => setCart({ lines: [], attemptKey: newKey() }), []);
  return { cart, add, setQuantity, remove, clear };
}
