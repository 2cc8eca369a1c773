// zod for every schema a page or the Island worker loads. jitless: zod otherwise probes
// whether it may compile parsers with `new Function` (the probe alone is a reported CSP
// violation on every page, since script-src has no 'unsafe-eval'), and the pages' payloads are
// small enough that the interpreted parser costs nothing noticeable. Must run before any
// schema is built, which importing `z` from here guarantees.
import { z } from 'zod';

z.config({ jitless: true });

export { z };
