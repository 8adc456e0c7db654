// Labels every object `outpost install` renders carries, so `kubectl get -l` finds them and
// `kubectl delete -l app.kubernetes.io/part-of=outpost` removes them.
import { OUTPOST_VERSION } from '../core/version.js';

export const INSTALL_LABELS = { 'app.kubernetes.io/part-of': 'outpost', 'app.kubernetes.io/version': OUTPOST_VERSION } as const;

export function componentLabels(component: string): Record<string, string> {
  return { ...INSTALL_LABELS, 'app.kubernetes.io/name': `outpost-${component}`, 'app.kubernetes.io/component': component };
}
