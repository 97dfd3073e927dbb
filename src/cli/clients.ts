import type { Command } from 'commander';
import type { Actor } from '../core/control.js';
import { CliError, withTessera } from './operator-database.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** `tessera clients …`: third-party applications (OAuth 2.1 clients, OpenID relying parties). */
export function clientCommands(program: Command, actor: Actor): void {
  const clients = program
    .command('clients')
    .description('third-party applications (OAuth 2.1 clients): register, list, delete');

  clients
    .command('create')
    .description("register a client; a confidential client's secret is printed once and stored only hashed")
    .requiredOption('--name <name>', 'what users see on the consent page')
    .option(
      '--type <type>',
      'confidential (a server that keeps a secret) or public (SPA, native app)',
      'confidential',
    )
    .option(
      '--redirect-uri <uri...>',
      'exact redirect URIs (https, http on loopback, or com.example.app:/cb)',
    )
    .requiredOption('--scope <scope...>', 'scopes it may ask for (TESSERA_OAUTH_SCOPES)')
    .requiredOption('--audience <resource>', 'the resource server its tokens are for (their aud)')
    .option('--grant <grant...>', 'authorization_code and/or client_credentials (default: by redirect URIs)')
    .option('--subject-type <type>', 'OpenID Connect: public (the user id) or pairwise (per sector)')
    .option('--id-token-alg <alg>', "OpenID Connect: the ID tokens' alg (must be TESSERA_JWT_ALGORITHM)")
    .option(
      '--post-logout-redirect-uri <uri...>',
      'OpenID Connect: exact URIs RP-initiated logout may return to',
    )
    .option('--backchannel-logout-uri <uri>', 'OpenID Connect: where back-channel logout tokens are POSTed')
    .action(
      (options: {
        name: string;
        type: string;
        redirectUri?: string[];
        scope: string[];
        audience: string;
        grant?: string[];
        subjectType?: string;
        idTokenAlg?: string;
        postLogoutRedirectUri?: string[];
        backchannelLogoutUri?: string;
      }) =>
        withTessera(async (tessera) => {
          if (options.type !== 'confidential' && options.type !== 'public') {
            throw new CliError('--type must be confidential or public');
          }
          const grants = options.grant ?? [];
          if (!grants.every((g) => g === 'authorization_code' || g === 'client_credentials')) {
            throw new CliError('--grant takes authorization_code and/or client_credentials');
          }
          const { client, clientSecret } = await tessera.oauth.clients.create(
            {
              name: options.name,
              type: options.type,
              redirectUris: options.redirectUri ?? [],
              scopes: options.scope,
              audience: options.audience,
              ...(grants.length > 0 && {
                grantTypes: grants as Array<'authorization_code' | 'client_credentials'>,
              }),
              oidc: {
                ...(options.subjectType && { subjectType: options.subjectType as 'public' | 'pairwise' }),
                ...(options.idTokenAlg && { idTokenSignedResponseAlg: options.idTokenAlg }),
                ...(options.postLogoutRedirectUri && {
                  postLogoutRedirectUris: options.postLogoutRedirectUri,
                }),
                ...(options.backchannelLogoutUri && { backchannelLogoutUri: options.backchannelLogoutUri }),
              },
            },
            actor,
          );
          console.log(`created client ${client.id} (${client.type}) grants=[${client.grantTypes.join(',')}]`);
          console.log(`client_id=${client.id}`);
          if (clientSecret) console.log(`client_secret=${clientSecret}\t(shown once: store it now)`);
        }),
    );

  clients
    .command('list')
    .description('list registered clients (never their secrets)')
    .action(() =>
      withTessera(async (tessera) => {
        for (const c of await tessera.oauth.clients.list()) {
          console.log(
            `${c.id}\t${c.name}\t${c.type}\tgrants=[${c.grantTypes.join(',')}]\tscopes=[${c.scopes.join(',')}]\taudience=${c.audience}\tredirect_uris=[${c.redirectUris.join(',')}]\tcreated=${iso(c.createdAt)}${c.oidc ? `\tsubject_type=${c.oidc.subjectType}\tbackchannel_logout_uri=${c.oidc.backchannelLogoutUri ?? ''}\tpost_logout_redirect_uris=[${c.oidc.postLogoutRedirectUris.join(',')}]` : ''}`,
          );
        }
      }),
    );

  clients
    .command('delete')
    .description('delete a client: its grants go, and every token it holds stops working')
    .argument('<id>', 'the client id')
    .action((id: string) =>
      withTessera(async (tessera) => {
        if (!(await tessera.oauth.clients.delete(id, actor))) throw new CliError(`no client with id ${id}`);
        console.log(`deleted client ${id}`);
      }),
    );
}
