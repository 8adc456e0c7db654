// Types of lint/architecture.js, for the TypeScript tests that check the architecture it declares.
export declare const LAYERS: string[][];
export declare const PROXY: string;
export declare const PROXY_MAY_IMPORT: string[];
export declare const NOT_CONTROL_PLANE: string[];
export declare const API_SERVER_OWNERS: string[];
export declare const API_SERVER_ALLOWANCES: { from: string; to: string; why: string }[];
export declare const ENV_READERS: { file: string; why: string }[];
export declare const NODE_PRIVATE_MODULE_USERS: { file: string; module: string; adr: string }[];
