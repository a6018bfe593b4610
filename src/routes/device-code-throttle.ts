// In front of the engine's device verification endpoint (POST /device): each code entry or
// confirmation counts against the address's attempts before the engine reads the form.
import type { Middleware } from 'koa';
import type { DeviceCodeThrottle } from '#src/services/device-code-throttle.ts';

export const DEVICE_VERIFICATION_PATH = '/device';

export function deviceCodeThrottle(throttle: DeviceCodeThrottle): Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === DEVICE_VERIFICATION_PATH) await throttle.consume(ctx.ip);
    return next();
  };
}
