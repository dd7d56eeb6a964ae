// Types of laboratoryOnDemand.mjs (plain JavaScript: Node loads it in its hooks thread, where no TypeScript
// loader runs).

export interface Resolved {
  url: string;
  shortCircuit?: boolean;
}

export function resolve(
  specifier: string,
  context: { parentURL?: string },
  nextResolve: (specifier: string, context: { parentURL?: string }) => Promise<Resolved>,
): Promise<Resolved>;

export function renderLaboratory(options: { title?: string }): Promise<string>;
