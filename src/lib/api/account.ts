// Deleting an account, the part the page needs without zod.

/** What the person types to confirm deleting their account (with their password). */
export const ACCOUNT_DELETION_PHRASE = 'delete my account';
