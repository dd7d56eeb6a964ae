// The playground (Hive Laboratory) loaded when it is first asked for, not at start. Hive Gateway's CLI imports
// `@graphql-hive/render-laboratory` at start-up: a 21 MB bundle that holds about 110 MB of the router's memory
// in every process, whether or not anyone opens the playground (and production's browsers seldom do).
//
// This file is both halves of the swap, through Node's module customization hooks (serve.mjs registers it):
// - `resolve` runs in the hooks thread: every import of the package, except this file's own, gets this file;
// - `renderLaboratory` runs in the gateway: Yoga awaits a renderer's promise, so the first playground page
//   imports the real package and every page is rendered by it.

const PACKAGE = '@graphql-hive/render-laboratory';
const SELF = import.meta.url;

/** Module resolution hook: the playground package is this file, except for this file itself. */
export async function resolve(specifier, context, nextResolve) {
  if (specifier === PACKAGE && context.parentURL !== SELF) return { url: SELF, shortCircuit: true };
  return nextResolve(specifier, context);
}

let laboratory;

/** Hive Gateway's playground renderer, its package imported on the first call. */
export function renderLaboratory(options) {
  laboratory ??= import(PACKAGE);
  return laboratory.then((module) => module.renderLaboratory(options));
}
