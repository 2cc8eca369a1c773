import type { SessionUser } from '../auth/users';
import { db, type Queryable } from '../db';
import { promptRejections } from '../db/schema';
import { ApiError } from '../http';
import { checkText } from './wordlist';

const PROMPT_REJECTED_MESSAGE =
	"This prompt asks for something Archipelago doesn't generate (sexual content, content involving minors, " +
	'graphic violence or hate). Change the wording and try again. Nothing was charged.';

/**
 * Content safety before any charge: throws ApiError 422 `prompt_rejected` for a blocked
 * prompt or negative prompt, after logging the attempt for the admin console. The log is
 * written outside the caller's transaction so a rolled-back submit still leaves its trace.
 */
export async function assertPromptAllowed(
	user: SessionUser,
	texts: { prompt: string; negativePrompt?: string },
	log: Queryable = db()
) {
	// The negative prompt is checked too: it is text the model reads, and a way to smuggle words in.
	for (const field of ['prompt', 'negativePrompt'] as const) {
		const text = texts[field];
		if (!text) continue;
		const verdict = checkText(text);
		if (verdict.allowed) continue;
		await log.insert(promptRejections).values({
			userId: user.id,
			prompt: texts.prompt,
			negativePrompt: texts.negativePrompt ?? null,
			field,
			terms: verdict.terms
		});
		const where = field === 'prompt' ? 'prompt' : 'negative prompt';
		throw new ApiError(422, 'prompt_rejected', PROMPT_REJECTED_MESSAGE.replace('This prompt', `This ${where}`));
	}
}
