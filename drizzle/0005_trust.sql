CREATE TABLE "canaries" (
	"id" text PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"params" jsonb NOT NULL,
	"pixels" integer NOT NULL,
	"reference_image_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trust_checks" (
	"id" serial PRIMARY KEY NOT NULL,
	"island_id" text NOT NULL,
	"job_id" text NOT NULL,
	"kind" text NOT NULL,
	"other_island_id" text,
	"image_id" text NOT NULL,
	"other_image_id" text NOT NULL,
	"same" boolean NOT NULL,
	"distance" real NOT NULL,
	"detail" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "withdrawn_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "islands" ADD COLUMN "trust" text DEFAULT 'probation' NOT NULL;--> statement-breakpoint
ALTER TABLE "islands" ADD COLUMN "vouched" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "islands" ADD COLUMN "canaries_passed" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "islands" ADD COLUMN "trusted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "islands" ADD COLUMN "quarantined_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "islands" ADD COLUMN "quarantine_reason" text;--> statement-breakpoint
ALTER TABLE "islands" ADD COLUMN "attempts_failed" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "islands" ADD COLUMN "speed_flags" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "kind" text DEFAULT 'user' NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "subject_job_id" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "canary_id" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "target_island_id" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "failed_owners" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "barred_owners" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "verification" text DEFAULT 'unchecked' NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "earned" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "escrow" text;--> statement-breakpoint
CREATE INDEX "canaries_model_idx" ON "canaries" USING btree ("model");--> statement-breakpoint
CREATE INDEX "trust_checks_island_idx" ON "trust_checks" USING btree ("island_id","id");--> statement-breakpoint
CREATE INDEX "jobs_island_idx" ON "jobs" USING btree ("island_id","finished_at");--> statement-breakpoint
CREATE INDEX "jobs_escrow_idx" ON "jobs" USING btree ("finished_at") WHERE "jobs"."escrow" = 'held';--> statement-breakpoint
CREATE INDEX "jobs_subject_idx" ON "jobs" USING btree ("subject_job_id") WHERE "jobs"."subject_job_id" is not null;--> statement-breakpoint
-- Islands registered before trust existed start on probation like new ones; the built-in Island is re-registered as vouched at every start.
UPDATE "islands" SET "trust" = 'trusted', "vouched" = true, "trusted_at" = now() WHERE "builtin";--> statement-breakpoint
-- Verification work (canaries, checks, reruns) is paid from the fee account, before the platform has earned fees on a fresh install.
UPDATE "ledger_accounts" SET "may_go_negative" = 1 WHERE "id" = 'platform:fees';
