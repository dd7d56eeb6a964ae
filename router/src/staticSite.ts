// The built web app, served from the router's own origin so that it needs no CORS.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { GatewayPlugin } from '@graphql-hive/gateway';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

const isFile = (file: string) => existsSync(file) && statSync(file).isFile();

/**
 * Serves the built web app from `dir` on GET and HEAD of any path but the `reserved` ones: a file when it exists
 * (hashed assets cached for good), index.html for a path without an extension (the app routes in the browser).
 * Nothing outside `dir` is ever served.
 */
export function useStaticSite(dir: string, reserved: string[]): GatewayPlugin {
  const root = path.resolve(dir);
  const headers = (file: string): Record<string, string> => ({
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy':
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  });
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if ((request.method !== 'GET' && request.method !== 'HEAD') || reserved.includes(url.pathname)) return;
      let file: string;
      try {
        file = path.resolve(root, `.${decodeURIComponent(url.pathname)}`);
      } catch {
        return endResponse(new fetchAPI.Response('Bad path', { status: 400 }));
      }
      if (file !== root && !file.startsWith(root + path.sep)) {
        return endResponse(new fetchAPI.Response('Not found', { status: 404 }));
      }
      if (!isFile(file)) {
        if (path.extname(file)) return endResponse(new fetchAPI.Response('Not found', { status: 404 }));
        file = path.join(root, 'index.html');
        if (!isFile(file)) return endResponse(new fetchAPI.Response('The web app is not built', { status: 404 }));
      }
      const body = request.method === 'HEAD' ? null : await readFile(file);
      endResponse(new fetchAPI.Response(body, { status: 200, headers: headers(file) }));
    },
  };
}
