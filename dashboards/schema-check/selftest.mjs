// Proves the type check has teeth: a dashboard with a misspelt panel key and
// one with an invalid enum value must both be rejected. Without this, a change
// that weakened Literal<> (or the schema's types) would let anything pass.
import { readFileSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const here = dirname(fileURLToPath(import.meta.url));
const dashboard = readFileSync(join(here, '..', 'vb365-data-retrieval-sessions.json'), 'utf8');
const dir = join(here, 'generated-selftest');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const broken = {
  misspelt_key: [dashboard.replace('"gridPos"', '"gridPosition"'), 'gridPosition'],
  bad_enum: [dashboard.replace('"mode": "absolute"', '"mode": "absolut"'), 'absolut'],
};
let failed = false;
for (const [name, [json, needle]] of Object.entries(broken)) {
  if (json === dashboard) {
    console.error(`selftest ${name}: the mutation did not apply`);
    process.exit(1);
  }
  writeFileSync(join(dir, `${name}.ts`), `import type { Dashboard } from 'grafana-schema-12';
import type { Literal } from '../literal';
export const d: Literal<Dashboard> = ${json};
`);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    extends: '../tsconfig.json', include: ['../literal.ts', `${name}.ts`],
  }));
  const r = spawnSync(join(here, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  if (r.status === 0 || !r.stdout.includes(needle)) {
    console.error(`selftest ${name}: tsc did not reject it (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    failed = true;
  }
}
rmSync(dir, { recursive: true, force: true });
if (failed) process.exit(1);
console.log('selftest: broken dashboards are rejected');
