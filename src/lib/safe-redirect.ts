/** Only same-site paths: `?next=//evil.example` or `https://…` would be an open redirect. */
export function safeNext(value: string | null | undefined, fallback = '/image'): string {
	if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback;
	return value;
}
