/**
 * Import-direction rules, checked by `npm run lint` (`depcruise src`): data flows http → core →
 * store, and the code an app embeds (adapters, client) never pulls in the server. A violation
 * fails the lint with the rule's name and the offending import.
 */
const SERVER_PACKAGES = 'node_modules/(fastify|fastify-plugin|@fastify/[^/]+|bowser)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-not-http',
      severity: 'error',
      comment: 'core is pure logic: it knows nothing of HTTP, the server wiring, the CLI or the adapters.',
      from: { path: '^src/core/' },
      to: {
        path: [
          '^src/(http|adapters|cli|admin|client)/',
          '^src/tessera\\.ts$',
          SERVER_PACKAGES.replace('|bowser', ''),
        ],
      },
    },
    {
      name: 'store-not-core-services-or-http',
      severity: 'error',
      comment:
        'stores implement the ports; they never call core services (only the leaf modules runtime.ts, errors.ts and email-key.ts, whose canonical key a migration must compute exactly as logins do) nor HTTP.',
      from: { path: '^src/store/' },
      to: {
        path: ['^src/core/', '^src/(http|adapters|cli|admin|client)/', '^src/tessera\\.ts$', SERVER_PACKAGES],
        pathNot: '^src/core/(runtime|errors|email-key)\\.ts$',
      },
    },
    {
      name: 'adapters-and-client-not-server',
      severity: 'error',
      comment:
        'tessera/verify, /express, /hono, /fastify and /client run inside apps: never the server (src/http, fastify-plugin, bowser). The fastify adapter may use fastify types only.',
      from: { path: '^src/(adapters|client)/' },
      to: {
        path: ['^src/(http|cli|admin)/', '^src/tessera\\.ts$', SERVER_PACKAGES],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'adapters-and-client-not-http-types',
      severity: 'error',
      comment:
        'not even a type from src/http: the adapters describe requests their own way (src/wire for the shared names).',
      from: { path: '^src/(adapters|client)/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'wire-depends-on-nothing',
      severity: 'error',
      comment: 'src/wire is shared by the server and the adapters, so it imports only node built-ins.',
      from: { path: '^src/wire/' },
      to: { dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'a cycle makes load order matter and layers meaningless.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/admin/assets/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
