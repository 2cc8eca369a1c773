-- Every claim counts the leases its Island holds (trust/admission.ts): without this index, by the Island's whole history of jobs.
CREATE INDEX "jobs_running_island_idx" ON "jobs" USING btree ("island_id") WHERE "jobs"."status" = 'running';
