import { z } from './zod';

/**
 * What an API key may do. A signed-in session may do everything; a key only what it was
 * given, so a key leaked from a script can generate images but not buy credits, register
 * Islands, mint keys or start identity verification.
 */
export const API_KEY_SCOPES = ['jobs:read', 'jobs:write', 'credits:buy', 'islands:manage'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** A new key's scopes unless it names others: generate, and read its own jobs and images. */
export const DEFAULT_API_KEY_SCOPES: readonly ApiKeyScope[] = ['jobs:read', 'jobs:write'];

export const ApiKeyScope = z.enum(API_KEY_SCOPES);
