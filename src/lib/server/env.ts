/** A positive whole number from the environment, or `fallback` when unset, zero or not a number. */
export function envPositiveInt(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
	const n = Number(env[name]);
	return env[name] !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}
