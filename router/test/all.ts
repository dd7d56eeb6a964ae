// Runs every test file here in one process, so that the gateway's packages load once (seconds each time)
// rather than once per file. One file alone: node --import tsx --test test/<name>.test.ts
import { readdirSync } from 'node:fs';

for (const file of readdirSync(import.meta.dirname).filter((name) => name.endsWith('.test.ts')).sort()) {
  await import(`./${file}`);
}
