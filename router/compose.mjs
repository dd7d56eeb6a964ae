#!/usr/bin/env node
// Compose the federation supergraph from a rover-format supergraph.yaml.
//
//   node compose.mjs [--config PATH] [--out PATH] [--api-out PATH] [--check]
//
// Defaults (relative to the repository root, whatever the current directory):
//   --config supergraph.yaml   --out schema/supergraph.graphql   --api-out schema/api.graphql
// Flag paths are relative to the current directory.
// The API schema is what clients see: the supergraph without join__ plumbing and @inaccessible members
// (typed clients are generated from it).
// --check writes nothing; it exits 1 when an output file is missing or differs
// from what composition produces (the drift test uses it).
// Exit codes: 0 ok, 1 composition error / drift, 2 bad usage or unreadable config.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import YAML from 'yaml';

const ROUTER_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(ROUTER_DIR, '..');
const DEFAULT_CONFIG = path.join(REPO_ROOT, 'supergraph.yaml');
const DEFAULT_OUT = path.join(REPO_ROOT, 'schema', 'supergraph.graphql');
const DEFAULT_API_OUT = path.join(REPO_ROOT, 'schema', 'api.graphql');
// The newest Federation 2 minor version The Guild's composition understands (2.0 to 2.9).
const MAX_SUPPORTED_MINOR = 9;

class UsageError extends Error {}

function fail(message, code = 1) {
  process.stderr.write(`compose: ${message}\n`);
  process.exit(code);
}

function parseCli(argv) {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        out: { type: 'string' },
        'api-out': { type: 'string' },
        check: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (err) {
    throw new UsageError(err.message);
  }
}

function checkFederationVersion(raw, configPath) {
  if (raw === undefined) return;
  const match = /^=?\s*(\d+)\.(\d+)(?:\.\d+)?$/.exec(String(raw).trim());
  if (!match) {
    throw new UsageError(`${configPath}: unrecognised federation_version ${JSON.stringify(raw)}`);
  }
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major !== 2 || minor > MAX_SUPPORTED_MINOR) {
    throw new UsageError(
      `${configPath}: federation_version ${raw} is not supported (Federation 2.0 - 2.${MAX_SUPPORTED_MINOR})`,
    );
  }
}

async function loadServices(configPath) {
  let text;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${configPath}: ${err.message}`);
  }
  const config = YAML.parse(text);
  if (!config || typeof config !== 'object' || !config.subgraphs || typeof config.subgraphs !== 'object') {
    throw new UsageError(`${configPath}: expected a "subgraphs" mapping`);
  }
  checkFederationVersion(config.federation_version, configPath);

  const baseDir = path.dirname(configPath);
  // Sorted by name so the output does not depend on the order of the yaml.
  const names = Object.keys(config.subgraphs).sort();
  if (names.length === 0) throw new UsageError(`${configPath}: no subgraphs`);

  const services = [];
  for (const name of names) {
    const entry = config.subgraphs[name] ?? {};
    const file = entry.schema?.file;
    if (typeof file !== 'string') {
      throw new UsageError(`${configPath}: subgraph "${name}" needs schema.file (only file schemas are supported)`);
    }
    if (typeof entry.routing_url !== 'string') {
      throw new UsageError(`${configPath}: subgraph "${name}" needs a routing_url`);
    }
    const schemaPath = path.resolve(baseDir, file);
    let sdl;
    try {
      sdl = await readFile(schemaPath, 'utf8');
    } catch (err) {
      throw new UsageError(`subgraph "${name}": cannot read ${schemaPath}: ${err.message}`);
    }
    let typeDefs;
    try {
      typeDefs = parse(sdl);
    } catch (err) {
      throw new UsageError(`subgraph "${name}": ${schemaPath}: ${err.message}`);
    }
    services.push({ name, url: entry.routing_url, typeDefs });
  }
  return services;
}

function firstDifference(a, b) {
  const left = a.split('\n');
  const right = b.split('\n');
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    if (left[i] !== right[i]) {
      return `line ${i + 1}:\n  committed: ${left[i] ?? '<end of file>'}\n  composed:  ${right[i] ?? '<end of file>'}`;
    }
  }
  return '';
}

async function main() {
  const args = parseCli(process.argv.slice(2));
  if (args.help) {
    process.stdout.write('usage: node compose.mjs [--config supergraph.yaml] [--out schema/supergraph.graphql] [--api-out schema/api.graphql] [--check]\n');
    return;
  }
  const configPath = args.config ? path.resolve(args.config) : DEFAULT_CONFIG;
  const outPath = args.out ? path.resolve(args.out) : DEFAULT_OUT;
  const apiOutPath = args['api-out'] ? path.resolve(args['api-out']) : DEFAULT_API_OUT;

  const services = await loadServices(configPath);
  const result = composeServices(services);
  if (result.errors && result.errors.length > 0) {
    process.stderr.write(`compose: composition of ${configPath} failed with ${result.errors.length} error(s):\n`);
    for (const error of result.errors) {
      const code = error.extensions?.code ? `[${error.extensions.code}] ` : '';
      process.stderr.write(`  - ${code}${error.message}\n`);
    }
    process.exit(1);
  }
  const outputs = [
    [outPath, withNewline(result.supergraphSdl)],
    [apiOutPath, withNewline(result.publicSdl)],
  ];

  if (args.check) {
    for (const [file, composed] of outputs) {
      let current;
      try {
        current = await readFile(file, 'utf8');
      } catch {
        fail(`${file} does not exist; run \`npm run compose\` (or \`make schema\`) to create it`);
      }
      if (current !== composed) {
        fail(
          `${file} is out of date with ${configPath}; run \`npm run compose\` (or \`make schema\`) and commit it.\n` +
            `first difference at ${firstDifference(current, composed)}`,
        );
      }
      process.stdout.write(`compose: ${path.relative(process.cwd(), file) || file} is up to date\n`);
    }
    return;
  }

  for (const [file, composed] of outputs) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, composed, 'utf8');
    process.stdout.write(`compose: wrote ${file} (${services.map((s) => s.name).join(', ')})\n`);
  }
}

function withNewline(sdl) {
  return sdl.endsWith('\n') ? sdl : `${sdl}\n`;
}

main().catch((err) => {
  if (err instanceof UsageError) fail(err.message, 2);
  fail(err?.stack ?? String(err), 2);
});
