import type { ApiKeyScope } from '$lib/schemas/scopes';
import type { SessionUser } from '$lib/server/auth/users';

declare global {
	namespace App {
		interface Error {
			message: string;
			code?: string;
		}
		interface Locals {
			user: SessionUser | null;
			/** Set when the request authenticated with an API key rather than a session cookie. */
			apiKeyId: string | null;
			/** What that API key may do; null for a session, which may do everything. */
			apiKeyScopes: ApiKeyScope[] | null;
			sessionId: string | null;
		}
	}
}

export {};
