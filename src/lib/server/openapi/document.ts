// The API document: OpenAPI 3.1, generated from the zod schemas the routes validate with
// (requests) and answer with ($lib/api/responses.ts). Served at /api/openapi.json and read by
// the /docs/api page; tests/api/openapi.test.ts checks it covers every route file under
// src/routes/api and that real answers validate against it.
import { createDocument } from 'zod-openapi';
import { AccountSummary, ApiKeyView, Balance, IslandViewSchema, JobViewSchema, PublicModelSchema, RecordedParamsSchema } from '$lib/api/responses';
import { accountPaths } from './account-paths';
import { islandPaths } from './island-paths';
import { ErrorSchema } from './operations';
import { GenerationParamsDoc, requesterPaths } from './requester-paths';

export type OpenApiDocument = ReturnType<typeof createDocument>;

function build(): OpenApiDocument {
	return createDocument({
		openapi: '3.1.0',
		info: {
			title: 'Archipelago API',
			version: '1',
			description:
				'Image generation on volunteers\' GPUs. Every refusal is `{ "error": { "code", "message", "issues"? } }` with a 4xx status; programs read `code`. Send JSON as `application/json`. A signed-in browser uses its session cookie; scripts send an API key (`Authorization: Bearer ak_…`, made on /account) holding the scope an operation names; Islands send their `isl_…` token.'
		},
		tags: [
			{ name: 'Requesters', description: 'Price, submit and follow jobs; pictures; credits.' },
			{ name: 'Accounts', description: 'Sign-up, sessions, API keys, identity verification, deleting your account.' },
			{ name: 'Islands', description: 'Registering and listing your Islands.' },
			{ name: 'Island protocol', description: 'What an Island calls with its token: claim, progress, result, fail.' },
			{ name: 'Admin', description: 'Operators only.' },
			{ name: 'Server', description: 'Health and this document.' }
		],
		components: {
			// Named here: wherever the paths use these schemas, the document refers to them by name.
			schemas: {
				Error: ErrorSchema,
				GenerationParams: GenerationParamsDoc,
				Job: JobViewSchema,
				RecordedParams: RecordedParamsSchema,
				Model: PublicModelSchema,
				AccountSummary,
				Balance,
				ApiKey: ApiKeyView,
				Island: IslandViewSchema
			},
			securitySchemes: {
				session: { type: 'apiKey', in: 'cookie', name: 'session', description: 'The session cookie set by sign-up and login.' },
				apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (`ak_…`); the operation names the scope it needs.' },
				island: { type: 'http', scheme: 'bearer', description: 'An Island token (`isl_…`), shown once at registration.' }
			}
		},
		paths: { ...requesterPaths, ...accountPaths, ...islandPaths }
	});
}

let built: OpenApiDocument | null = null;

/** Built once per process: the schemas don't change while it runs. */
export function openApiDocument(): OpenApiDocument {
	built ??= build();
	return built;
}
