export const DASHBOARD_HTML = '<!doctype html><title>outpost</title>';
