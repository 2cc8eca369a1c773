import { openApiDocument } from '$lib/server/openapi/document';
import type { PageServerLoad } from './$types';

/** The API document, read by the page as plain JSON (the same as /api/openapi.json). */
export const load: PageServerLoad = () => ({ doc: JSON.parse(JSON.stringify(openApiDocument())) as ApiDocument });

export interface ApiDocument {
	info: { title: string; version: string; description?: string };
	tags?: { name: string; description?: string }[];
	paths: Record<string, Record<string, unknown>>;
	components?: { schemas?: Record<string, unknown> };
}
