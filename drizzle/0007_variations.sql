-- A variation's result is accepted only from the lease that fetched its input picture: an outdated Island that ignores `variation` would draw a text-to-image picture instead.
ALTER TABLE "jobs" ADD COLUMN "input_lease_hash" text;
