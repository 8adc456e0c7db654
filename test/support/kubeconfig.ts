// Kubeconfigs for the error paths: an API that is not there (127.0.0.1:1 refuses every connection).
import { writeFileSync } from 'node:fs';

/** Writes a kubeconfig whose API refuses connections (port 1 of 127.0.0.1); returns its path. */
export function writeUnreachableKubeconfig(path: string): string {
  writeFileSync(
    path,
    'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n',
  );
  return path;
}
