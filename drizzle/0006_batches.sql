ALTER TABLE "jobs" ADD COLUMN "batch_id" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "batch_index" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "jobs_batch_idx" ON "jobs" USING btree ("batch_id") WHERE "jobs"."batch_id" is not null;--> statement-breakpoint
CREATE INDEX "jobs_active_user_idx" ON "jobs" USING btree ("user_id") WHERE "jobs"."status" in ('queued', 'running');--> statement-breakpoint
-- Every requester's job belongs to a batch: one made before batches is a batch of its own.
UPDATE "jobs" SET "batch_id" = "id" WHERE "kind" = 'user';
