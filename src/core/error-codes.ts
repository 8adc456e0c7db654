// The one registry of Outpost error codes. Codes are stable: tools and docs refer to them.
// Add a code here before throwing it; docs/errors.md lists the same table.
export const ERROR_CODES = {
  CONFIG_INVALID: { hint: 'fix the named setting and start again' },
  DATA_DIR_LOCKED: { hint: 'another `outpost up` is using this data dir; stop it or pass --data-dir' },
  DATA_DIR_UNSAFE: { hint: 'the data dir must be owned by you and not readable by others (chmod 700)' },
  API_UNREACHABLE: { hint: 'is `outpost up` running? check the kubeconfig and control-plane.json' },
  NOT_FOUND: { hint: undefined },
  INVALID_ARGUMENT: { hint: 'see `outpost <command> --help`' },
  NOT_IMPLEMENTED: { hint: 'this part of Outpost is not built yet; see README "Status"' },
  IDENTITY_REFUSED: { hint: undefined },
  CERTIFICATE_EXPIRED: { hint: 're-enrol with `outpost workload onboard --renew`' },
  STORE_CORRUPT: { hint: 'stop outpost up, then restore the file from a backup, or move it aside and apply your manifests again' },
  INTERNAL: { hint: 'this is a bug in Outpost; please report it with the log' },
} as const satisfies Record<string, { hint: string | undefined }>;

export type ErrorCode = keyof typeof ERROR_CODES;
