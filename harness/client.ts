import { randomUUID } from 'node:crypto';

/** A requester as a browser would be: a cookie jar and the app's own origin on every call. */
export class ApiClient {
	#cookie = '';
	bearer: string | null = null;

	constructor(readonly baseUrl: string) {}

	/** The session cookie as sent, to replay it from elsewhere. */
	get cookie() {
		return this.#cookie;
	}
	set cookie(value: string) {
		this.#cookie = value;
	}

	async request(method: string, path: string, init: { json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {}) {
		const headers: Record<string, string> = { origin: this.baseUrl, ...init.headers };
		if (this.#cookie) headers.cookie = this.#cookie;
		if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
		let body = init.body;
		if (init.json !== undefined) {
			body = JSON.stringify(init.json);
			headers['content-type'] ??= 'application/json';
		}
		const res = await fetch(this.baseUrl + path, { method, headers, body, redirect: 'manual' });
		const set = res.headers.getSetCookie();
		for (const c of set) {
			const [pair] = c.split(';');
			const [name, value] = pair.split('=');
			if (name === 'session') this.#cookie = value ? `session=${value}` : '';
		}
		return res;
	}

	async json<T = any>(method: string, path: string, init?: Parameters<ApiClient['request']>[2]): Promise<{ status: number; body: T; res: Response }> {
		const res = await this.request(method, path, init);
		const text = await res.text();
		return { status: res.status, body: text ? JSON.parse(text) : null, res };
	}

	async signUp(email = `u-${randomUUID()}@example.com`, password = 'correct horse battery') {
		const r = await this.json('POST', '/api/auth/signup', { json: { email, password } });
		if (r.status !== 201) throw new Error(`sign-up failed: ${r.status} ${JSON.stringify(r.body)}`);
		return { email, password, user: r.body.user };
	}

	async buy(pack: 'starter' | 'creator' | 'studio' = 'starter') {
		const r = await this.json('POST', '/api/credits/purchase', { json: { pack }, headers: { 'idempotency-key': randomUUID() } });
		if (r.status !== 201) throw new Error(`purchase failed: ${r.status} ${JSON.stringify(r.body)}`);
		return r.body;
	}
}
