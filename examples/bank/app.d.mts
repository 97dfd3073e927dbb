import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The part of tessera/fastify's createAuth() result the bank uses. */
export interface BankAuth {
  requireAuth(requirements?: {
    roles?: readonly string[];
    scopes?: readonly string[];
  }): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

export interface BankAppOptions {
  auth: BankAuth;
  /** Where the bank reaches Tessera; /auth/*, /admin* and /.well-known/* are forwarded there. */
  tesseraUrl: string;
  mode: string;
  /** The SDK bundle served at /sdk.js; built with esbuild from src/client when absent. */
  sdk?: string;
  /** How often the account page reloads its data; 0 = never. Default 3000. */
  pollMs?: number;
  logger?: boolean;
}

export function buildSdkBundle(): Promise<string>;
export function buildBankApp(options: BankAppOptions): Promise<FastifyInstance>;
