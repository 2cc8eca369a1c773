import { api } from '$lib/server/http';
import { openApiDocument } from '$lib/server/openapi/document';

/** The API document, public: it says what the API accepts, nothing about anyone's data. */
export const GET = api(async () => Response.json(openApiDocument(), { headers: { 'cache-control': 'public, max-age=300' } }));
