import { z } from './zod';

/** Every API error has this shape (docs/broker.md, Routes and shapes); the client reads `code` to decide what to show. */
export const ApiErrorBody = z.object({
	error: z.object({
		code: z.string(),
		message: z.string(),
		issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional()
	})
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;
