// Outpost's own ESLint rules: the import boundaries and module rules of lint/architecture.js, each
// reporting why it exists. Imports are resolved against the importing file, so `../proxy/x.js` and
// `../../proxy/x.js` are the same folder to every rule, and a folder's own subfolders never are.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_SERVER_ALLOWANCES, API_SERVER_OWNERS, ENV_READERS, NODE_PRIVATE_MODULE_USERS, NOT_CONTROL_PLANE, PROXY, PROXY_MAY_IMPORT } from './architecture.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(REPO_ROOT, 'src');

/** The file's path under the repo, with forward slashes ("src/proxy/config.ts"). */
function repoPath(file) {
  return path.relative(REPO_ROOT, file).split(path.sep).join('/');
}

/** The path under src/ of a file or import target ("proxy/http1/relay.ts"), or undefined outside src/. */
function srcPath(file) {
  const rel = path.relative(SRC, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : rel.split(path.sep).join('/');
}

/** The top folder under src/ ("proxy"), or undefined for a file outside src/ or directly in it (an entry point). */
function folderOf(under) {
  const i = under?.indexOf('/') ?? -1;
  return i > 0 ? under.slice(0, i) : undefined;
}

/** Every module specifier of the file (imports, re-exports, import(), require()) with its node. */
function forEachSpecifier(context, visit) {
  const check = (node, source) => {
    if (source && source.type === 'Literal' && typeof source.value === 'string') visit(source.value, node);
  };
  return {
    ImportDeclaration: (node) => check(node, node.source),
    ExportNamedDeclaration: (node) => check(node, node.source),
    ExportAllDeclaration: (node) => check(node, node.source),
    ImportExpression: (node) => check(node, node.source),
    TSImportEqualsDeclaration: (node) => check(node, node.moduleReference?.expression),
    CallExpression: (node) => {
      if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments.length === 1) check(node, node.arguments[0]);
    },
  };
}

/**
 * A rule on relative imports between folders of src/: `applies(fromFolder)` picks the importing
 * files, `forbidden(fromFolder, targetUnderSrc)` returns true for an import it refuses.
 */
function importBoundary({ description, message, applies, forbidden }) {
  return {
    meta: { type: 'problem', docs: { description }, schema: [], messages: { forbidden: message } },
    create(context) {
      const from = srcPath(context.filename);
      const fromFolder = folderOf(from);
      if (!fromFolder || !applies(fromFolder)) return {};
      return forEachSpecifier(context, (specifier, node) => {
        if (!specifier.startsWith('.')) return;
        const target = srcPath(path.resolve(path.dirname(context.filename), specifier));
        const targetFolder = folderOf(target);
        if (targetFolder && targetFolder !== fromFolder && forbidden(fromFolder, target)) {
          context.report({ node, messageId: 'forbidden', data: { from: `src/${fromFolder}`, target: `src/${target}` } });
        }
      });
    },
  };
}

const proxyImports = importBoundary({
  description: 'src/proxy imports only src/core and src/api',
  message:
    '{{from}} may import only src/core and src/api (and itself), not {{target}}: the proxy runs beside every workload and ships without the control plane; what both sides need belongs in src/api (the mesh contract) or src/core (shared mechanisms).',
  applies: (folder) => folder === PROXY,
  forbidden: (_from, target) => !PROXY_MAY_IMPORT.includes(folderOf(target)),
});

const controlPlaneNotProxy = importBoundary({
  description: 'the control plane never imports src/proxy',
  message:
    '{{from}} is control plane and must not import {{target}}: the proxy is a separate process with its own releases and state; the control plane and the proxy meet only through src/api (the mesh contract), so move the shared piece there (types) or to src/core (mechanisms).',
  applies: (folder) => !NOT_CONTROL_PLANE.includes(folder),
  forbidden: (_from, target) => folderOf(target) === PROXY,
});

const apiServerOwner = importBoundary({
  description: 'only src/controlplane imports src/apiserver or src/store',
  message:
    '{{from}} must not import {{target}}: only src/controlplane starts the embedded API server and its store; every component talks to the API through @kubernetes/client-node, so the embedded mode runs exactly the code that runs against a real cluster.',
  applies: (folder) => !API_SERVER_OWNERS.includes(folder),
  forbidden: (from, target) =>
    ['apiserver', 'store'].includes(folderOf(target)) && !API_SERVER_ALLOWANCES.some((a) => a.from === from && (target === a.to || target.startsWith(`${a.to}/`))),
});

const processEnv = {
  meta: {
    type: 'problem',
    docs: { description: 'process.env only in config modules' },
    schema: [],
    messages: {
      forbidden: `process.env is read only in the config modules (${ENV_READERS.map((r) => r.file).join(', ')}): each process parses and validates its settings once, up front, reporting every bad value together; take the value (or an env object) as a parameter instead.`,
    },
  },
  create(context) {
    const file = repoPath(context.filename);
    if (!file.startsWith('src/') || ENV_READERS.some((r) => r.file === file)) return {};
    const isProcess = (node) => node.type === 'Identifier' && node.name === 'process';
    return {
      MemberExpression(node) {
        const key = node.computed ? node.property.type === 'Literal' && node.property.value : node.property.name;
        if (isProcess(node.object) && key === 'env') context.report({ node, messageId: 'forbidden' });
      },
      VariableDeclarator(node) {
        if (node.init && isProcess(node.init) && node.id.type === 'ObjectPattern' && node.id.properties.some((p) => p.type === 'Property' && p.key.name === 'env')) {
          context.report({ node, messageId: 'forbidden' });
        }
      },
    };
  },
};

const PRIVATE_MODULE = /^(node:)?_[a-z_]+$/;
const nodePrivateModules = {
  meta: {
    type: 'problem',
    docs: { description: "Node's private modules only where an ADR allows" },
    schema: [],
    messages: {
      forbidden:
        "'{{module}}' is one of Node's private modules: internal API that changes without notice between Node releases; load it only where an ADR allows it (NODE_PRIVATE_MODULE_USERS in lint/architecture.js names the file and the ADR).",
    },
  },
  create(context) {
    const file = repoPath(context.filename);
    return forEachSpecifier(context, (specifier, node) => {
      if (!PRIVATE_MODULE.test(specifier)) return;
      const module = specifier.replace(/^node:/, '');
      if (!NODE_PRIVATE_MODULE_USERS.some((u) => u.file === file && u.module === module)) context.report({ node, messageId: 'forbidden', data: { module } });
    });
  },
};

export const outpostRules = {
  meta: { name: 'outpost' },
  rules: {
    'proxy-imports-core-and-api': proxyImports,
    'control-plane-not-proxy': controlPlaneNotProxy,
    'apiserver-store-owner': apiServerOwner,
    'process-env-in-config-modules': processEnv,
    'node-private-modules': nodePrivateModules,
  },
};
