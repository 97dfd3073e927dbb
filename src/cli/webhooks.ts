import type { Command } from 'commander';
import type { Actor } from '../core/control.js';
import { SECURITY_EVENT_TYPES } from '../core/security-events.js';
import { CliError, withTessera } from './operator-database.js';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/**
 * `tessera webhooks`: the admin API's webhook endpoints from the command line (list, create with
 * the secret printed once, delete, deliveries, retry). Deliveries are made by the servers: a
 * delivery replayed here goes out at their next poll (within a second).
 */
export function webhookCommands(program: Command, actor: Actor): void {
  const webhooks = program
    .command('webhooks')
    .description('webhook and Shared Signals endpoints: list, create, delete, deliveries, retry');

  webhooks
    .command('list')
    .description('list endpoints (never their secrets)')
    .action(() =>
      withTessera(async (tessera) => {
        const list = await tessera.events.webhooks.list();
        for (const w of list) {
          const { last, lastFailure } = await tessera.events.webhooks.lastOf(w.id);
          const lastText = last ? `\tlast=${last.status}@${iso(last.createdAt)}` : '';
          const failText = lastFailure ? `\tlast_failure=${iso(lastFailure.createdAt)}` : '';
          console.log(`${w.id}\t${w.format}\t${w.url}\tevents=[${w.events.join(',')}]${lastText}${failText}`);
        }
        if (list.length === 0) console.log('no webhook endpoints');
      }),
    );

  webhooks
    .command('create')
    .description("register an endpoint; a standard endpoint's signing secret is printed once")
    .requiredOption(
      '--url <url>',
      'https URL to POST events to (http and local addresses in development only)',
    )
    .requiredOption('--event <type...>', `event types: ${SECURITY_EVENT_TYPES.join(', ')}`)
    .option(
      '--format <format>',
      'standard (Standard Webhooks JSON) or set (RFC 8417 tokens, RFC 8935 push)',
      'standard',
    )
    .action((options: { url: string; event: string[]; format: string }) =>
      withTessera(async (tessera) => {
        if (options.format !== 'standard' && options.format !== 'set') {
          throw new CliError('--format must be standard or set');
        }
        const { endpoint, secret } = await tessera.events.webhooks.create(
          { url: options.url, events: options.event, format: options.format },
          actor,
        );
        console.log(
          `created webhook ${endpoint.id} (${endpoint.format}) events=[${endpoint.events.join(',')}]`,
        );
        if (secret) console.log(`secret=${secret}\t(shown once: store it now)`);
      }),
    );

  webhooks
    .command('delete')
    .description('delete an endpoint; its pending deliveries stop')
    .argument('<id>', 'the endpoint id')
    .action((id: string) =>
      withTessera(async (tessera) => {
        if (!(await tessera.events.webhooks.delete(id, actor)))
          throw new CliError(`no webhook endpoint with id ${id}`);
        console.log(`deleted webhook ${id}`);
      }),
    );

  webhooks
    .command('deliveries')
    .description("an endpoint's deliveries, newest first, with the receiver's last answer")
    .argument('<id>', 'the endpoint id')
    .option('--status <status>', 'pending, delivered or failed')
    .option('--limit <n>', 'at most this many', '50')
    .action((id: string, options: { status?: string; limit: string }) =>
      withTessera(async (tessera) => {
        const { status } = options;
        if (status !== undefined && !['pending', 'delivered', 'failed'].includes(status)) {
          throw new CliError('--status must be pending, delivered or failed');
        }
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          throw new CliError('--limit must be 1 to 1000');
        if (!(await tessera.events.webhooks.find(id)))
          throw new CliError(`no webhook endpoint with id ${id}`);
        const list = await tessera.events.webhooks.deliveries(id, {
          limit,
          ...(status && { status: status as 'pending' | 'delivered' | 'failed' }),
        });
        for (const d of list) {
          const answer = d.lastStatus === null ? '' : `\thttp=${d.lastStatus}`;
          const error = d.lastError ? `\terror=${JSON.stringify(d.lastError)}` : '';
          const next = d.status === 'pending' ? `\tnext=${iso(d.nextAttemptAt)}` : '';
          console.log(
            `${d.id}\t${d.status}\t${d.eventType}\tattempts=${d.attempts}\tcreated=${iso(d.createdAt)}${answer}${next}${error}`,
          );
        }
        if (list.length === 0) console.log('no deliveries');
      }),
    );

  webhooks
    .command('retry')
    .description('send one delivery again now (same id: receivers can tell it is a replay)')
    .argument('<id>', 'the endpoint id')
    .argument('<deliveryId>', 'the delivery id')
    .action((id: string, deliveryId: string) =>
      withTessera(async (tessera) => {
        if (!(await tessera.events.webhooks.retry(id, deliveryId, actor))) {
          throw new CliError(`no delivery ${deliveryId} of webhook endpoint ${id}`);
        }
        console.log(`delivery ${deliveryId} queued again`);
      }),
    );
}
