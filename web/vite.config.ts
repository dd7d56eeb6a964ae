import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The built app is served by the router from its own origin (ROUTER_WEB_DIR), so it calls /graphql there.
// `npm run dev` proxies /graphql to a router on ROUTER_URL (default: make run's router).
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    proxy: { '/graphql': process.env.ROUTER_URL ?? 'http://127.0.0.1:4000' },
  },
});
