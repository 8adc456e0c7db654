// The .deb (dpkg-deb), the .rpm (rpmbuild, when installed) and a tarball of the same tree, around
// the single executable: /usr/bin/outpost, the outpost-proxy unit, and a post-install step that
// creates the outpost-proxy user. Timestamps are the commit's, so a rebuild gives the same bytes.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROXY_USER, proxyUserSetup, renderPackagedUnit } from '../../src/workload/bundle.js';

export interface PackageInput {
  executable: string;
  work: string;
  outDir: string;
  /** e.g. 0.1.0 */
  version: string;
  /** git describe, e.g. e56be43 or e56be43-dirty */
  commit: string;
  /** Seconds since the epoch: every file's mtime (the commit's time). */
  epoch: number;
  log: (line: string) => void;
}

const UNIT_PATH = 'usr/lib/systemd/system/outpost-proxy.service';
const SUMMARY = 'Outpost service-mesh proxy and CLI for VMs (single executable, no Node.js needed)';

function postInstall(): string {
  return `#!/bin/sh
# Creates the ${PROXY_USER} system user the proxy runs as; an onboarding bundle's install.sh configures it.
set -e
${proxyUserSetup()}if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
`;
}

function touchTree(dir: string, epoch: number): void {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) touchTree(path, epoch);
    utimesSync(path, epoch, epoch);
  }
  utimesSync(dir, epoch, epoch);
}

/** The installed tree: usr/bin/outpost and the unit. */
function stageTree(root: string, input: PackageInput): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  mkdirSync(join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true });
  copyFileSync(input.executable, join(root, 'usr', 'bin', 'outpost'));
  chmodSync(join(root, 'usr', 'bin', 'outpost'), 0o755);
  writeFileSync(join(root, UNIT_PATH), renderPackagedUnit('/usr/bin/outpost'), { mode: 0o644 });
}

function buildDeb(input: PackageInput, file: string): void {
  const root = join(input.work, 'deb');
  stageTree(root, input);
  mkdirSync(join(root, 'DEBIAN'));
  const control = [
    'Package: outpost',
    `Version: ${input.version}+git${input.commit.replace(/[^A-Za-z0-9.]+/g, '.')}`,
    'Architecture: amd64',
    'Maintainer: Outpost <outpost@localhost>',
    // The executable is Node's own binary (glibc, libstdc++) plus better-sqlite3's addon (glibc 2.34).
    'Depends: libc6 (>= 2.34), libstdc++6, passwd',
    'Section: net',
    'Priority: optional',
    `Description: ${SUMMARY}`,
    ' Installs /usr/bin/outpost and the outpost-proxy systemd unit, and creates the',
    ' outpost-proxy user. Configure the proxy with an onboarding bundle (install.sh).',
    '',
  ].join('\n');
  writeFileSync(join(root, 'DEBIAN', 'control'), control, { mode: 0o644 });
  writeFileSync(join(root, 'DEBIAN', 'postinst'), postInstall(), { mode: 0o755 });
  touchTree(root, input.epoch);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, file], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(input.epoch) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function buildRpm(input: PackageInput, file: string): boolean {
  if (spawnSync('rpmbuild', ['--version'], { stdio: 'ignore' }).status !== 0) return false;
  const top = join(input.work, 'rpm');
  rmSync(top, { recursive: true, force: true });
  const root = join(top, 'staged');
  stageTree(root, input);
  touchTree(root, input.epoch);
  const spec = `Name: outpost
Version: ${input.version}
Release: git${input.commit.replace(/[^A-Za-z0-9.]+/g, '.')}
Summary: ${SUMMARY}
License: Apache-2.0
BuildArch: x86_64
AutoReqProv: no
Requires: glibc >= 2.34, libstdc++, shadow-utils

%description
Installs /usr/bin/outpost and the outpost-proxy systemd unit, and creates the outpost-proxy user.
Configure the proxy with an onboarding bundle (install.sh).

%install
mkdir -p %{buildroot}
cp -a ${root}/. %{buildroot}/

%post
${proxyUserSetup()}
%files
%attr(0755, root, root) /usr/bin/outpost
%attr(0644, root, root) /${UNIT_PATH}
`;
  mkdirSync(join(top, 'SPECS'), { recursive: true });
  writeFileSync(join(top, 'SPECS', 'outpost.spec'), spec);
  const defines = [
    `_topdir ${top}`,
    `_rpmdir ${join(top, 'RPMS')}`,
    'debug_package %{nil}',
    '__os_install_post %{nil}',
    '_buildhost outpost',
    'use_source_date_epoch_as_buildtime 1',
    'clamp_mtime_to_source_date_epoch 1',
    '_binary_payload w6.gzdio',
  ].flatMap((d) => ['--define', d]);
  execFileSync('rpmbuild', ['-bb', '--quiet', ...defines, join(top, 'SPECS', 'outpost.spec')], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(input.epoch) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const built = join(top, 'RPMS', 'x86_64');
  const rpm = readdirSync(built).find((f) => f.endsWith('.rpm'));
  if (!rpm) throw new Error(`rpmbuild wrote no package into ${built}`);
  copyFileSync(join(built, rpm), file);
  return true;
}

function buildTarball(input: PackageInput, file: string): void {
  const root = join(input.work, 'tar');
  stageTree(root, input);
  mkdirSync(join(root, 'usr', 'lib', 'outpost'), { recursive: true });
  writeFileSync(join(root, 'usr', 'lib', 'outpost', 'postinst.sh'), postInstall(), { mode: 0o755 });
  touchTree(root, input.epoch);
  execFileSync('sh', ['-c', `tar --sort=name --mtime=@${input.epoch} --owner=0 --group=0 --numeric-owner -C "$1" -cf - usr | gzip -n -6 > "$2"`, 'tar', root, file]);
}

/** Writes outpost_VERSION_amd64.deb, outpost-VERSION.x86_64.rpm (if rpmbuild exists) and outpost-VERSION-linux-x64.tar.gz; returns their names. */
export function buildPackages(input: PackageInput): string[] {
  const names: string[] = [];
  const deb = `outpost_${input.version}_amd64.deb`;
  input.log(`packaging ${deb} (dpkg-deb)`);
  buildDeb(input, join(input.outDir, deb));
  names.push(deb);
  const rpm = `outpost-${input.version}.x86_64.rpm`;
  input.log(`packaging ${rpm} (rpmbuild)`);
  if (buildRpm(input, join(input.outDir, rpm))) names.push(rpm);
  else input.log('  rpmbuild is not installed (apt-get install rpm): no .rpm, the tarball has the same layout');
  const tar = `outpost-${input.version}-linux-x64.tar.gz`;
  input.log(`packaging ${tar}`);
  buildTarball(input, join(input.outDir, tar));
  names.push(tar);
  return names;
}
