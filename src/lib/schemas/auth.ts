import { z } from './zod';

export const Credentials = z.strictObject({
	email: z.email({ message: 'Enter a valid email address.' }).max(254),
	password: z.string().min(8, { message: 'Use at least 8 characters.' }).max(200, { message: 'Use at most 200 characters.' })
});
export type Credentials = z.infer<typeof Credentials>;

export const ApiKeyCreate = z.strictObject({
	name: z.string().trim().min(1, { message: 'Name the key.' }).max(60)
});
