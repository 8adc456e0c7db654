// The checks of a running control plane: API, resources, identity material, control-plane
// services and the proxies that report to it. Each failure names the fault and how to fix it.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { readControlPlaneInfo, type ControlPlaneInfo } from '../../core/control-plane-file.js';
import { OUTPOST_VERSION } from '../../core/version.js';
import { fail, ok, warn, type CheckGroup } from './report.js';
import { apiGet, networkReason, tlsHandshake } from './probes.js';
import { chainsTo, DAY_MS, humanDuration, parseBundle, sameBundle, validity } from './certs.js';
import { pkiPaths } from '../../identity/ca-material.js';

export interface ControlPlaneCheckContext {
  kc: KubeConfig;
  kubeconfigPath: string;
  dataDir: string;
  now?: () => number;
}

const TRUST_ROOTS = { namespace: 'outpost', name: 'outpost-identity-trust-roots', key: 'ca-bundle.crt' };
const MAX_SKEW_MS = 20_000; // leaves are backdated 20 s (identity), so more skew breaks fresh certificates

export function controlPlaneChecks(ctx: ControlPlaneCheckContext): CheckGroup[] {
  const now = ctx.now ?? Date.now;
  let info: ControlPlaneInfo | undefined;
  let anchorsPem: string | undefined;
  const server = ctx.kc.getCurrentCluster()?.server ?? '(no server)';
  return [
    {
      name: 'kubernetes-api',
      checks: [
        {
          description: 'can query the API server',
          fatal: true,
          async run() {
            try {
              const r = await apiGet(ctx.kc, '/version');
              if (r.status === 401) return fail(`${server} refused the credentials`, `the kubeconfig ${ctx.kubeconfigPath} belongs to another installation; use the one \`outpost up\` wrote in its data dir`);
              if (r.status !== 200) return fail(`${server} answered ${r.status}`, 'see the control plane log');
              return ok(server);
            } catch (e) {
              return fail(`cannot reach ${server}: ${networkReason(e)}`, 'is the control plane running? start it with `outpost up` (or `outpost demo`), or pass --kubeconfig');
            }
          },
        },
        {
          description: 'API server is ready',
          async run() {
            const r = await apiGet(ctx.kc, '/readyz');
            return r.status === 200 ? ok() : fail(`/readyz answered ${r.status}: ${r.body.trim()}`, 'see the control plane log');
          },
        },
        {
          description: 'clock is in sync with the API server',
          async run() {
            const before = now();
            const r = await apiGet(ctx.kc, '/version');
            const local = (before + now()) / 2;
            if (!r.date) return warn('the API sent no Date header', 'cannot measure clock skew');
            const skew = local - new Date(r.date).getTime();
            // Date has one-second precision: allow for it.
            if (Math.abs(skew) > MAX_SKEW_MS + 1000) return fail(`this clock is ${Math.round(skew / 1000)} s off the API server's`, 'synchronise clocks (chrony or systemd-timesyncd): certificates tolerate 20 s of skew');
            if (Math.abs(skew) > 5_000) return warn(`skew ${Math.round(skew / 1000)} s`, 'synchronise clocks (chrony or systemd-timesyncd)');
            return ok();
          },
        },
      ],
    },
    {
      name: 'outpost-resources',
      checks: [
        resourceCheck(ctx.kc, 'workload.linkerd.io/v1beta1', ['externalworkloads', 'workloadgroups']),
        resourceCheck(ctx.kc, 'policy.linkerd.io/v1beta3', ['servers']),
        resourceCheck(ctx.kc, 'policy.linkerd.io/v1beta1', ['serverauthorizations']),
        resourceCheck(ctx.kc, 'policy.linkerd.io/v1alpha1', ['authorizationpolicies', 'meshtlsauthentications', 'networkauthentications']),
      ],
    },
    {
      name: 'outpost-identity',
      checks: [
        {
          description: 'trust roots are published',
          async run() {
            try {
              const cm = await ctx.kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: TRUST_ROOTS.name, namespace: TRUST_ROOTS.namespace });
              anchorsPem = cm.data?.[TRUST_ROOTS.key];
              if (!anchorsPem) return fail(`ConfigMap ${TRUST_ROOTS.namespace}/${TRUST_ROOTS.name} has no ${TRUST_ROOTS.key}`, 'restart `outpost up`: the identity component republishes it');
              return ok(`ConfigMap ${TRUST_ROOTS.namespace}/${TRUST_ROOTS.name}`);
            } catch (e) {
              return fail(`ConfigMap ${TRUST_ROOTS.namespace}/${TRUST_ROOTS.name}: ${(e as { code?: number }).code === 404 ? 'not found' : (e as Error).message}`, 'is the identity component running? see the `outpost up` log');
            }
          },
        },
        {
          description: 'trust anchors are valid',
          async run() {
            if (!anchorsPem) return fail('no trust anchors to check', 'fix the check above first');
            const anchors = parseBundle(anchorsPem);
            if (!anchors.length) return fail('the bundle holds no certificate', 'republish the trust roots');
            const bad = anchors.filter((a) => validity(a, now()).expired || validity(a, now()).notYetValid);
            if (bad.length) return fail(`${bad.length} of ${anchors.length} anchors are outside their validity`, 'rotate the trust anchor (see docs/identity.md)');
            const soonest = Math.min(...anchors.map((a) => validity(a, now()).msLeft));
            if (soonest < 60 * DAY_MS) return warn(`an anchor expires in ${humanDuration(soonest)}`, 'rotate the trust anchor before it expires (see docs/identity.md)');
            return ok(`${anchors.length} anchor${anchors.length === 1 ? '' : 's'}`);
          },
        },
        {
          description: 'issuer certificate is valid and far from expiry',
          async run() {
            const issuerPath = pkiPaths(ctx.dataDir).issuerCert;
            if (!existsSync(issuerPath)) return warn('not on the control-plane host', `no ${issuerPath}; run the check where \`outpost up\` runs, or pass --data-dir`);
            const issuer = parseBundle(readFileSync(issuerPath, 'utf8'))[0];
            if (!issuer) return fail(`${issuerPath} holds no certificate`, 'restore the issuer certificate');
            const v = validity(issuer, now());
            if (v.expired) return fail(`the issuer expired ${humanDuration(v.msLeft)} ago (${issuer.validTo})`, `no workload can get or renew a certificate: write a new issuer (issuer.crt/issuer.key) into ${join(ctx.dataDir, 'pki')} or restart with --identity-issuer-cert/--identity-issuer-key; it is picked up without a restart`);
            if (v.notYetValid) return fail(`the issuer is not valid before ${issuer.validFrom}`, 'check the clock of this host');
            if (anchorsPem && !chainsTo(issuer, parseBundle(anchorsPem))) return fail('the issuer is not signed by any published trust anchor', 'issue the issuer from the trust anchor, or publish the matching anchor');
            if (v.msLeft < 30 * DAY_MS) return warn(`expires in ${humanDuration(v.msLeft)}`, 'rotate the issuer before it expires (see docs/identity.md)');
            return ok(`expires in ${humanDuration(v.msLeft)}`);
          },
        },
        {
          description: 'published trust roots match the control plane',
          async run() {
            const local = pkiPaths(ctx.dataDir).trustAnchors;
            if (!existsSync(local)) return warn('not on the control-plane host', `no ${local}`);
            if (!anchorsPem) return fail('no published trust roots', 'fix the checks above first');
            return sameBundle(readFileSync(local, 'utf8'), anchorsPem)
              ? ok()
              : fail(`ConfigMap ${TRUST_ROOTS.name} differs from ${local}`, 'restart `outpost up` to republish the trust roots, then re-export them to every VM');
          },
        },
      ],
    },
    {
      name: 'outpost-control-plane',
      checks: [
        {
          description: 'control plane is running on this host',
          async run() {
            info = readControlPlaneInfo(ctx.dataDir);
            if (!info) return warn(`no ${join(ctx.dataDir, 'control-plane.json')}`, 'run the check on the control-plane host, or pass --data-dir');
            try {
              process.kill(info.pid, 0);
            } catch {
              return fail(`control-plane.json names pid ${info.pid}, which is not running`, 'start it again with `outpost up`');
            }
            return ok(`pid ${info.pid}, version ${info.version}`);
          },
        },
        ...['identity', 'destination', 'policy', 'health'].map((name) => ({
          description: `${name} service answers with a certificate from the trust anchors`,
          async run() {
            const addr = info?.listeners[name];
            if (!info) return warn('unknown address', 'needs control-plane.json (run on the control-plane host)');
            if (!addr) return fail(`control-plane.json lists no ${name} listener`, `the ${name} component did not start; see the \`outpost up\` log`);
            if (!anchorsPem) return fail('no trust anchors to verify it with', 'fix outpost-identity first');
            try {
              await tlsHandshake(addr, anchorsPem);
              return ok(addr);
            } catch (e) {
              return fail(`${addr}: ${networkReason(e)}`, `the ${name} service is down or serves a certificate from another installation; restart \`outpost up\``);
            }
          },
        })),
        {
          description: 'control plane and CLI versions match',
          async run() {
            if (!info) return warn('unknown', 'needs control-plane.json');
            return info.version === OUTPOST_VERSION ? ok(OUTPOST_VERSION) : warn(`control plane ${info.version}, CLI ${OUTPOST_VERSION}`, 'upgrade the older of the two');
          },
        },
      ],
    },
    { name: 'outpost-data-plane', checks: dataPlaneChecks(ctx.kc) },
  ];
}

function resourceCheck(kc: KubeConfig, groupVersion: string, plurals: string[]) {
  return {
    description: `${groupVersion} serves ${plurals.join(', ')}`,
    async run() {
      const r = await apiGet(kc, `/apis/${groupVersion}`);
      if (r.status !== 200) return fail(`GET /apis/${groupVersion} answered ${r.status}`, 'the API server does not serve this group; upgrade the control plane');
      const names = new Set((JSON.parse(r.body).resources ?? []).map((x: { name: string }) => x.name));
      const missing = plurals.filter((p) => !names.has(p));
      return missing.length ? fail(`missing ${missing.join(', ')}`, 'upgrade the control plane') : ok();
    },
  };
}

interface WorkloadStatus {
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[]; proxy?: { version?: string; certificateNotAfter?: string } };
}

function dataPlaneChecks(kc: KubeConfig) {
  let workloads: WorkloadStatus[] = [];
  return [
    {
      description: 'every external workload has a connected, ready proxy',
      async run() {
        const list = (await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads' })) as { items: WorkloadStatus[] };
        workloads = list.items;
        if (!workloads.length) return ok('no external workloads yet');
        const notReady = workloads.filter((w) => w.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True');
        if (!notReady.length) return ok(`${workloads.length} ready`);
        const names = notReady.slice(0, 5).map((w) => {
          const c = w.status?.conditions?.find((x) => x.type === 'Ready');
          return `${w.metadata.namespace}/${w.metadata.name}${c?.reason ? ` (${c.reason})` : ''}`;
        });
        return warn(`${notReady.length} of ${workloads.length} not ready: ${names.join(', ')}${notReady.length > 5 ? ', ...' : ''}`, 'run `outpost explain externalworkload/NAME -n NS` for each');
      },
    },
    {
      description: 'proxy certificates are valid',
      async run() {
        const expired = workloads.filter((w) => w.status?.proxy?.certificateNotAfter && new Date(w.status.proxy.certificateNotAfter).getTime() < Date.now());
        if (expired.length) return fail(`expired: ${expired.map((w) => `${w.metadata.namespace}/${w.metadata.name}`).join(', ')}`, 're-enrol them with `outpost workload onboard NAME -n NS --renew`');
        return ok();
      },
    },
    {
      description: 'proxies run the control plane version',
      async run() {
        const skewed = workloads.filter((w) => w.status?.proxy?.version && w.status.proxy.version !== OUTPOST_VERSION);
        if (skewed.length) return warn(`${skewed.map((w) => `${w.metadata.namespace}/${w.metadata.name} ${w.status!.proxy!.version}`).join(', ')}`, `upgrade those proxies to ${OUTPOST_VERSION}`);
        return ok();
      },
    },
  ];
}
