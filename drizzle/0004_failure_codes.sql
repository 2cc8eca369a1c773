ALTER TABLE "jobs" ADD COLUMN "failure_code" text;--> statement-breakpoint
-- Cancelled rows get their code from their status. Older failed rows keep a null code (their reason text is shown as it is); it is not guessed from the English.
UPDATE "jobs" SET "failure_code" = 'cancelled' WHERE "status" = 'cancelled';
