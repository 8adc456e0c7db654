// The viz component of the control plane. Placeholder until it lands: starts nothing.
import type { ControlPlaneComponent } from '../core/component.js';

export const component: ControlPlaneComponent = {
  name: 'viz',
  flags: {},
  async start(ctx) {
    ctx.log.warn('viz is not built yet; skipping');
    return { listeners: {}, stop: async () => {} };
  },
};
