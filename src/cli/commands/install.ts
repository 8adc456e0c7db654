// `outpost install`: prints (or, with --out DIR, writes) everything a Kubernetes cluster needs to run
// Outpost: `outpost install | kubectl apply --server-side -f -`. See docs/kubernetes.md.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatFlagHelp, parseFlags } from '../../core/flags.js';
import { OutpostError } from '../../core/errors.js';
import { ensurePrivateDir, writePrivateFile } from '../../core/files.js';
import { OUTPOST_VERSION } from '../../core/version.js';
import { CONTROL_PLANE_FLAGS } from '../../controlplane/flags.js';
import { installCaMaterial } from '../../install/ca.js';
import { fileNameOf, renderInstall, toYaml } from '../../install/render.js';
import { renderCrds } from '../../install/crds.js';

const FLAGS = {
  image: { type: 'string', default: `ghcr.io/outpost-mesh/outpost:${OUTPOST_VERSION}`, help: 'container image of the control-plane Deployments' },
  out: { type: 'string', help: 'write one file per object into this directory (created 0700; files 0600: the issuer Secret is among them) instead of printing' },
  'crds-only': { type: 'bool', help: 'only the CustomResourceDefinitions' },
  // The identity flags are those of `outpost up` (one table), passed on to the Deployments.
  'identity-trust-domain': CONTROL_PLANE_FLAGS['identity-trust-domain'],
  'identity-naming': CONTROL_PLANE_FLAGS['identity-naming'],
  'identity-trust-anchors-file': CONTROL_PLANE_FLAGS['identity-trust-anchors-file'],
  'identity-issuer-cert': CONTROL_PLANE_FLAGS['identity-issuer-cert'],
  'identity-issuer-key': CONTROL_PLANE_FLAGS['identity-issuer-key'],
} as const;

export async function run(argv: string[]): Promise<number> {
  const { flags, help, positionals } = parseFlags(argv, FLAGS);
  if (help) {
    console.log(`Usage: outpost install [flags] | kubectl apply --server-side -f -\n\nRenders the CRDs, RBAC, identity CA and Deployments of Outpost for a Kubernetes cluster.\n\nFlags:\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  if (positionals.length) throw new OutpostError('INVALID_ARGUMENT', `unexpected argument "${positionals[0]}" (outpost install takes flags only)`);
  if (!flags.image.trim()) throw new OutpostError('INVALID_ARGUMENT', '--image: must not be empty');
  const trustDomain = flags['identity-trust-domain'];
  let objects;
  if (flags['crds-only']) objects = renderCrds() as ReturnType<typeof renderInstall>;
  else {
    const { material, generated } = await installCaMaterial(
      { trustAnchorsFile: flags['identity-trust-anchors-file'], issuerCertFile: flags['identity-issuer-cert'], issuerKeyFile: flags['identity-issuer-key'] },
      trustDomain,
    );
    if (generated) console.error('outpost install: generated a trust anchor and issuer (the anchor key is not kept; import your own CA with --identity-* for production)');
    objects = renderInstall({ image: flags.image, ca: material, trustDomain, identityNaming: flags['identity-naming'] });
  }
  if (!flags.out) {
    process.stdout.write(toYaml(objects));
    return 0;
  }
  const dir = resolve(flags.out);
  ensurePrivateDir(dir);
  const stale = readdirSync(dir).filter((f) => /^\d{3}-.*\.yaml$/.test(f));
  if (stale.length) throw new OutpostError('INVALID_ARGUMENT', `--out: ${dir} already holds rendered files (${stale[0]}, …); use an empty directory`, { field: 'out' });
  objects.forEach((o, i) => writePrivateFile(join(dir, fileNameOf(o, i)), toYaml([o])));
  console.error(`outpost install: wrote ${objects.length} files to ${dir}; apply them with \`kubectl apply --server-side -f ${dir}\``);
  return 0;
}
