// The controllers component of the control plane. Placeholder until it lands: starts nothing.
import type { ControlPlaneComponent } from '../core/component.js';

export const component: ControlPlaneComponent = {
  name: 'controllers',
  flags: {},
  async start(ctx) {
    ctx.log.warn('controllers is not built yet; skipping');
    return { listeners: {}, stop: async () => {} };
  },
};
