import { useEffect, useState } from 'react';

import { AdminPage } from './pages/AdminPage';
import { FactoriesPage } from './pages/FactoriesPage';
import { LoginPage } from './pages/LoginPage';
import { PurchasesPage } from './pages/PurchasesPage';
import { SessionsPage } from './pages/SessionsPage';
import { ShopPage } from './pages/ShopPage';
import { ShopsPage } from './pages/ShopsPage';
import { useSession } from './session';

/** The page the location's hash names: #/shops, #/shop/<id>, #/purchases, #/sessions, #/login, #/admin,
 * #/factories. */
function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function App() {
  const { user, logOut } = useSession();
  const [page = 'shops', id] = useRoute();
  const admin = user?.role === 'ADMIN';
  const link = (href: string, label: string, name: string) => (
    <li>
      <a href={href} aria-current={page === name ? 'page' : undefined}>{label}</a>
    </li>
  );

  let content;
  if (page === 'login') content = <LoginPage />;
  else if (page === 'shop' && id) content = <ShopPage key={id} shopId={id} />;
  else if (page === 'purchases') content = user ? <PurchasesPage /> : <LoginPage />;
  else if (page === 'sessions') content = user ? <SessionsPage /> : <LoginPage />;
  else if (page === 'admin') content = admin ? <AdminPage /> : <p>Only administrators see this page.</p>;
  else if (page === 'factories') content = admin ? <FactoriesPage /> : <p>Only administrators see this page.</p>;
  else content = <ShopsPage />;

  return (
    <>
      <header>
        <a className="brand" href="#/shops">Service Tree</a>
        <nav aria-label="Main">
          <ul>
            {link('#/shops', 'Shops', 'shops')}
            {user && link('#/purchases', 'My purchases', 'purchases')}
            {user && link('#/sessions', 'Sessions', 'sessions')}
            {admin && link('#/admin', 'Catalog', 'admin')}
            {admin && link('#/factories', 'Factories', 'factories')}
            {user ? (
              <li>
                <span className="who">{user.login}</span>{' '}
                <button type="button" onClick={() => logOut()}>Log out</button>
              </li>
            ) : (
              link('#/login', 'Log in', 'login')
            )}
          </ul>
        </nav>
      </header>
      <main>{content}</main>
    </>
  );
}
