// The API document as tests read it: the route files it must cover (found on disk, so a
// route someone adds later is caught), and real answers checked against its schemas.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const ROUTES = new URL('../../src/routes/', import.meta.url).pathname;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export interface RouteFile {
	file: string;
	/** The OpenAPI path: `[id]` becomes `{id}`, `(group)` segments vanish. */
	path: string;
	methods: string[];
}

function walk(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name === '+server.ts' ? [join(dir, e.name)] : []));
}

/** Every `+server.ts` under src/routes/api with the methods it exports. */
export function apiRouteFiles(): RouteFile[] {
	return walk(join(ROUTES, 'api')).map((file) => {
		const segments = relative(ROUTES, file).split('/').slice(0, -1).filter((s) => !/^\(.*\)$/.test(s));
		const path = '/' + segments.map((s) => s.replace(/\[\[?(?:\.\.\.)?([^\]=]+)(?:=[^\]]+)?\]\]?/g, '{$1}')).join('/');
		const source = readFileSync(file, 'utf8');
		const methods = METHODS.filter((m) => new RegExp(`export\\s+(?:const|(?:async\\s+)?function)\\s+${m}\\b`).test(source));
		return { file: relative(join(ROUTES, '..', '..'), file), path, methods };
	});
}

type Json = Record<string, any>;

/** Validates answers against the document's response schemas (JSON Schema 2020-12 in OpenAPI 3.1). */
export class ResponseChecker {
	#ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });

	constructor(readonly doc: Json) {
		(addFormats as unknown as (ajv: Ajv2020) => void)(this.#ajv);
		this.#ajv.addSchema(doc, 'openapi.json');
	}

	/** The documented answer for this status, or throws naming what is missing. */
	response(method: string, path: string, status: number): Json {
		const op = this.doc.paths?.[path]?.[method.toLowerCase()];
		if (!op) throw new Error(`${method} ${path} is not in the document`);
		const response = op.responses?.[String(status)];
		if (!response) throw new Error(`${method} ${path} answered ${status}, which the document does not list`);
		return response;
	}

	/**
	 * Checks a real answer: its status is documented, its content type is the documented one,
	 * and a JSON body validates against the schema. Returns the parsed body.
	 */
	async check(method: string, path: string, res: Response): Promise<any> {
		const response = this.response(method, path, res.status);
		const text = await res.text();
		const documented = Object.keys(response.content ?? {});
		if (documented.length === 0) {
			if (text !== '') throw new Error(`${method} ${path} ${res.status}: the document says no body, got ${text.slice(0, 200)}`);
			return null;
		}
		const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
		if (!documented.includes(type)) throw new Error(`${method} ${path} ${res.status}: content-type ${type}, documented ${documented.join(', ')}`);
		if (type !== 'application/json') return text;
		const body = JSON.parse(text);
		const pointer = ['paths', path, method.toLowerCase(), 'responses', String(res.status), 'content', type, 'schema']
			.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
			.join('/');
		const validate = this.#ajv.getSchema(`openapi.json#/${pointer}`);
		if (!validate) throw new Error(`no schema at ${pointer}`);
		if (!validate(body)) {
			throw new Error(`${method} ${path} ${res.status} does not match the document: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 600)}`);
		}
		return body;
	}
}
