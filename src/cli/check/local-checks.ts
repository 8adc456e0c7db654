// Checks that need no running control plane: `outpost check --pre` (can this host run one?) and
// `outpost check --proxy` (is the proxy on this VM healthy and does it trust this control plane?).
import { existsSync, readFileSync, accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fail, ok, warn, type CheckGroup } from './report.js';
import { httpGetText, networkReason, portFree, tlsHandshake } from './probes.js';
import { humanDuration } from './certs.js';
import { loadProxyConfig, type ProxyConfig } from '../../proxy/config.js';
import { CONTROL_PLANE_FLAGS } from '../../controlplane/flags.js';

/** The ports `outpost up` listens on by default (its flag table), which `check --pre` wants free. */
export const DEFAULT_CONTROL_PLANE_PORTS = {
  api: CONTROL_PLANE_FLAGS['api-port'].default,
  identity: CONTROL_PLANE_FLAGS['identity-port'].default,
  destination: CONTROL_PLANE_FLAGS['destination-port'].default,
  health: CONTROL_PLANE_FLAGS['health-port'].default,
  policy: CONTROL_PLANE_FLAGS['policy-port'].default,
};

export function preChecks(opts: { dataDir: string; listen: string }): CheckGroup[] {
  return [
    {
      name: 'pre-outpost-host',
      checks: [
        {
          description: 'Node.js is 20.19 or newer',
          async run() {
            const [maj, min] = process.versions.node.split('.').map(Number);
            return maj > 20 || (maj === 20 && min >= 19) ? ok(process.versions.node) : fail(`Node.js ${process.versions.node}`, 'install Node.js 20.19+ (the API client needs require(esm))');
          },
        },
        {
          description: 'data dir is usable',
          async run() {
            const lock = join(opts.dataDir, 'outpost.lock');
            if (existsSync(lock)) {
              const pid = Number(readFileSync(lock, 'utf8'));
              try {
                process.kill(pid, 0);
                return fail(`${opts.dataDir} is in use by a running control plane (pid ${pid})`, 'stop it first, or pass --data-dir');
              } catch {}
            }
            let probe = opts.dataDir;
            while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
            try {
              accessSync(probe, constants.W_OK);
              return ok(opts.dataDir);
            } catch {
              return fail(`${probe} is not writable`, 'pass a --data-dir you can write to');
            }
          },
        },
        ...Object.entries(DEFAULT_CONTROL_PLANE_PORTS).map(([name, port]) => ({
          description: `port ${port} (${name}) is free on ${opts.listen}`,
          async run() {
            return (await portFree(opts.listen, port)) ? ok() : fail(`something listens on ${opts.listen}:${port}`, `stop it, or start with --${name === 'api' ? 'api' : name}-port N`);
          },
        })),
        {
          description: 'kubectl is installed',
          async run() {
            const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 10_000 });
            return r.status === 0 ? ok() : warn('kubectl not found', 'install kubectl to manage resources (Outpost serves a Kubernetes-compatible API)');
          },
        },
      ],
    },
  ];
}

export function proxyChecks(opts: { configFile: string }): CheckGroup[] {
  let config: ProxyConfig | undefined;
  let running = false;
  const admin = () => `http://${config!.admin.host === '0.0.0.0' ? '127.0.0.1' : config!.admin.host}:${config!.admin.port}`;
  return [
    {
      name: 'outpost-proxy',
      checks: [
        {
          description: 'proxy configuration is valid',
          fatal: true,
          async run() {
            if (!existsSync(opts.configFile)) return fail(`no ${opts.configFile}`, 'pass --proxy-config FILE (the file `outpost proxy --config` uses)');
            config = loadProxyConfig(opts.configFile);
            return ok(opts.configFile);
          },
        },
        {
          description: 'proxy is running',
          async run() {
            try {
              const r = await httpGetText(`${admin()}/live`);
              running = r.status === 200;
              return running ? ok(admin()) : fail(`/live answered ${r.status}`, 'see the proxy log (journalctl -u outpost-proxy)');
            } catch (e) {
              return fail(`${admin()}: ${networkReason(e)}`, 'start it: systemctl start outpost-proxy (or `outpost proxy --config FILE`)');
            }
          },
        },
        {
          description: 'proxy is ready',
          async run() {
            if (!running) return fail('not running', 'start the proxy first');
            const r = await httpGetText(`${admin()}/ready`);
            return r.status === 200 ? ok() : fail(`/ready answered ${r.status}: ${r.body.trim().slice(0, 200)}`, 'it holds no certificate yet: check the token and trust anchors, and `outpost explain` on the control plane');
          },
        },
        {
          description: 'proxy certificate is valid',
          async run() {
            if (!running) return fail('not running', 'start the proxy first');
            const r = await httpGetText(`${admin()}/metrics`);
            const m = /^identity_cert_expiration_timestamp_seconds(?:\{[^}]*\})?\s+([\d.e+]+)/m.exec(r.body);
            if (!m) return warn('the proxy exports no certificate expiry', 'is it running with an identity?');
            const left = Number(m[1]) * 1000 - Date.now();
            if (left <= 0) return fail(`expired ${humanDuration(left)} ago`, 're-enrol: `outpost workload onboard NAME -n NS --renew` on the control plane, then copy the new token');
            if (left < 3_600_000) return warn(`expires in ${humanDuration(left)}`, 'renewal is failing: see the proxy log');
            return ok(`expires in ${humanDuration(left)}`);
          },
        },
        {
          description: "proxy's trust anchors verify the control plane",
          async run() {
            const anchorsFile = config!.identity.trustAnchors;
            const endpoint = config!.identity.endpoint ?? (config!.destination.endpoint ? { host: config!.destination.endpoint.host, port: 8080 } : undefined);
            if (!anchorsFile || !existsSync(anchorsFile)) return fail(`no trust anchors file ${anchorsFile ?? '(identity.trustAnchors unset)'}`, 'export them: `outpost identity trust-roots > ca.crt` and set identity.trustAnchors');
            if (!endpoint) return warn('no identity endpoint configured', 'set identity.endpoint or destination.endpoint');
            const addr = `${endpoint.host}:${endpoint.port}`;
            try {
              await tlsHandshake(addr, readFileSync(anchorsFile, 'utf8'));
              return ok(addr);
            } catch (e) {
              const msg = networkReason(e);
              if (/certificate|self.signed|verify/i.test(msg)) {
                return fail(`${anchorsFile} does not verify the identity service at ${addr} (${msg}): the trust anchors come from another installation`, 'export this control plane\'s roots with `outpost identity trust-roots > ca.crt`, copy them to the VM, restart the proxy');
              }
              return fail(`${addr}: ${msg}`, 'the control plane is unreachable from this host: check the address, firewall, and that `outpost up` runs');
            }
          },
        },
      ],
    },
  ];
}
