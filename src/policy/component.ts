// The policy component of the control plane. Placeholder until it lands: starts nothing.
import type { ControlPlaneComponent } from '../core/component.js';

export const component: ControlPlaneComponent = {
  name: 'policy',
  flags: {},
  async start(ctx) {
    ctx.log.warn('policy is not built yet; skipping');
    return { listeners: {}, stop: async () => {} };
  },
};
