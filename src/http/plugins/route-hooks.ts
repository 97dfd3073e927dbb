import type { FastifyInstance, RouteOptions } from 'fastify';
import type { RoutePolicy } from '../route-policy.js';

/**
 * Attaches a hook to the routes that need it, instead of a global hook every request pays for:
 * the anti-CSRF check only matters on state-changing routes, the rate limits on the four routes
 * whose `config` names a rate-limited action (route-policy.ts),
 * yet a global async hook costs each GET /auth/session a promise and a microtask turn.
 *
 * It is an `onRoute` hook, so it covers routes registered later too (in any plugin), like a
 * global hook would. Hooks added this way run in the order their plugins were registered, and
 * before any the route declares itself, as global hooks would.
 */

type HookName = 'preValidation' | 'onSend';
const FROM_PLUGIN = Symbol('tessera route hook');

export interface RouteShape {
  methods: readonly string[];
  url: string;
  /** The route's declared policy (route-policy.ts); {} when it declares none. */
  config: RoutePolicy;
}

export function addRouteHook(
  app: FastifyInstance,
  name: HookName,
  applies: (route: RouteShape) => boolean,
  hook: (...args: never[]) => unknown,
): void {
  Object.defineProperty(hook, FROM_PLUGIN, { value: true });
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!applies({ methods, url: route.url, config: route.config ?? {} })) return;
    const current = route[name];
    const existing: unknown[] = current === undefined ? [] : Array.isArray(current) ? current : [current];
    const at = existing.findLastIndex((h) => typeof h === 'function' && FROM_PLUGIN in h) + 1;
    (route as unknown as Record<HookName, unknown[]>)[name] = [
      ...existing.slice(0, at),
      hook,
      ...existing.slice(at),
    ];
  });
}
