// The control-plane components `outpost up` starts after the API, in order. Identity comes first:
// the others get their mTLS certificates from it.
import type { ControlPlaneComponent } from '../core/component.js';

export async function loadComponents(): Promise<ControlPlaneComponent[]> {
  const mods = await Promise.all([
    import('../identity/component.js'),
    import('../controllers/component.js'),
    import('../destination/component.js'),
    import('../policy/component.js'),
    import('../viz/component.js'),
    import('../injector/component.js'),
  ]);
  return mods.map((m) => m.component);
}
