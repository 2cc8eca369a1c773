import type { SessionUser } from '../auth/users';

/**
 * Content safety before any charge: throws ApiError 422 `prompt_rejected` for a blocked
 * prompt or negative prompt. (Word list and normalisation land with the safety issue.)
 */
export async function assertPromptAllowed(_user: SessionUser, _texts: { prompt: string; negativePrompt?: string }) {}
