// Each guardrail of eslint.config.js (lint/rules.js) fires on a small deliberate violation, with its
// reason in the message, and stays quiet on the imports the architecture allows. Runs ESLint's Node
// API with the repo's own configuration on in-memory sources given paths under src/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../support/paths.js';

const eslint = new ESLint({ cwd: REPO_ROOT });

/** The outpost/* problems ESLint reports on `code` as if it were the file `path`. */
async function guardrailsOn(path: string, code: string): Promise<{ rule: string; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, path) });
  assert.ok(result, `ESLint linted nothing for ${path}`);
  const fatal = result.messages.find((m) => m.fatal);
  assert.equal(fatal, undefined, `the fixture does not parse: ${fatal?.message}`);
  return result.messages.filter((m) => m.ruleId?.startsWith('outpost/')).map((m) => ({ rule: m.ruleId!, message: m.message }));
}

interface Violation {
  rule: string;
  path: string;
  code: string;
  /** Words of the reason the message must give. */
  reason: RegExp;
}

const VIOLATIONS: Violation[] = [
  { rule: 'proxy-imports-core-and-api', path: 'src/proxy/inbound/fixture.ts', code: "import { x } from '../../destination/endpoints.js';\nexport { x };\n", reason: /src\/proxy may import only src\/core and src\/api .*not src\/destination\/endpoints\.js: the proxy runs beside every workload and ships without the control plane/ },
  { rule: 'proxy-imports-core-and-api', path: 'src/proxy/fixture.ts', code: "export async function f() {\n  return import('../cli/main.js');\n}\n", reason: /not src\/cli\/main\.js/ },
  { rule: 'control-plane-not-proxy', path: 'src/policy/fixture.ts', code: "import type { Discovery } from '../proxy/types.js';\nexport type D = Discovery;\n", reason: /src\/policy is control plane and must not import src\/proxy\/types\.js: .*meet only through src\/api \(the mesh contract\)/ },
  { rule: 'control-plane-not-proxy', path: 'src/core/tls/fixture.ts', code: "export * from '../../proxy/tls/server.js';\n", reason: /src\/core is control plane and must not import src\/proxy\/tls\/server\.js/ },
  { rule: 'apiserver-store-owner', path: 'src/identity/fixture.ts', code: "import { openSqliteStore } from '../store/sqlite.js';\nexport { openSqliteStore };\n", reason: /src\/identity must not import src\/store\/sqlite\.js: only src\/controlplane starts the embedded API server and its store; every component talks to the API through @kubernetes\/client-node/ },
  { rule: 'apiserver-store-owner', path: 'src/install/fixture.ts', code: "import { startApiServer } from '../apiserver/index.js';\nexport { startApiServer };\n", reason: /src\/install must not import src\/apiserver\/index\.js/ },
  { rule: 'process-env-in-config-modules', path: 'src/viz/fixture.ts', code: 'export const port = process.env.VIZ_PORT;\n', reason: /process\.env is read only in the config modules \(src\/proxy\/config\.ts, .*\): each process parses and validates its settings once, up front/ },
  { rule: 'process-env-in-config-modules', path: 'src/destination/fixture.ts', code: "const { env } = process;\nexport const a = env.A;\nexport const b = process['env'].B;\n", reason: /config modules/ },
  { rule: 'node-private-modules', path: 'src/proxy/http/fixture.ts', code: "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport const { HTTPParser } = require('_http_common');\n", reason: /'_http_common' is one of Node's private modules: internal API that changes without notice between Node releases; load it only where an ADR allows it/ },
  { rule: 'node-private-modules', path: 'src/core/fixture.ts', code: "import wrap from 'node:_stream_wrap';\nexport { wrap };\n", reason: /'_stream_wrap'/ },
];

for (const v of VIOLATIONS) {
  test(`outpost/${v.rule} fires on ${v.path}: ${v.code.split('\n')[0]}`, async () => {
    const problems = await guardrailsOn(v.path, v.code);
    const mine = problems.filter((p) => p.rule === `outpost/${v.rule}`);
    assert.ok(mine.length > 0, `no outpost/${v.rule} problem; got ${JSON.stringify(problems)}`);
    for (const p of mine) assert.match(p.message, v.reason);
  });
}

test('the process.env rule counts every read: a destructured env and a computed process["env"] too', async () => {
  const problems = await guardrailsOn(VIOLATIONS[7].path, VIOLATIONS[7].code);
  assert.equal(problems.filter((p) => p.rule === 'outpost/process-env-in-config-modules').length, 2);
});

const ALLOWED: { path: string; code: string; why: string }[] = [
  { path: 'src/proxy/inbound/fixture.ts', code: "import { log } from '../../core/log.js';\nimport type { EndpointSnapshot } from '../../api/model.js';\nimport { client } from '../identity/client.js';\nexport { log, client };\nexport type E = EndpointSnapshot;\n", why: 'the proxy imports core, api and its own identity/ subfolder' },
  { path: 'src/cli/commands/fixture.ts', code: "import { startProxy } from '../../proxy/main.js';\nimport { startControlPlane } from '../../controlplane/start.js';\nexport { startProxy, startControlPlane };\n", why: 'the CLI starts the proxy and the control plane' },
  { path: 'src/controlplane/fixture.ts', code: "import { startApiServer } from '../apiserver/index.js';\nimport { openSqliteStore } from '../store/sqlite.js';\nexport { startApiServer, openSqliteStore };\n", why: 'the control plane owns the API server and the store' },
  { path: 'src/apiserver/fixture.ts', code: "import { openSqliteStore } from '../store/sqlite.js';\nexport { openSqliteStore };\n", why: 'the API server is built on its store' },
  { path: 'src/install/fixture.ts', code: "import { RESOURCE_TYPES } from '../apiserver/resources/index.js';\nexport { RESOURCE_TYPES };\n", why: "CRDs come from the embedded API's descriptors" },
  { path: 'src/proxy/config.ts', code: 'export const level = process.env.OUTPOST_LOG;\n', why: "the proxy's config module reads the environment" },
  { path: 'src/proxy/http1/llhttp.ts', code: "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport const { HTTPParser } = require('_http_common');\n", why: "the relay's llhttp door is allowed _http_common" },
  { path: 'test/proxy/fixture.test.ts', code: "import { openSqliteStore } from '../../src/store/sqlite.js';\nexport const home = process.env.HOME;\nexport { openSqliteStore };\n", why: 'tests may reach into any component' },
];

for (const a of ALLOWED) {
  test(`no guardrail fires where the architecture allows it: ${a.why}`, async () => {
    assert.deepEqual(await guardrailsOn(a.path, a.code), []);
  });
}

test('an allowance is for its file and module only: the relay may not load another private module', async () => {
  const problems = await guardrailsOn('src/proxy/http1/llhttp.ts', "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport const s = require('_http_server');\n");
  assert.deepEqual(problems.map((p) => p.rule), ['outpost/node-private-modules']);
});
