// The requester's routes: models, quotes, jobs and their events, images, credits.
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { z } from 'zod';
import { GenerationParams } from '$lib/schemas/generation';
import { PurchaseRequest } from '$lib/schemas/credits';
import { JobList, JobResponse, ModelList, PurchaseResult, Quote, ShareLink, SubmitResult } from '$lib/api/responses';
import { JobListQuery, JobRequest } from '../jobs/requests';
import { AUTHED, JSON_BODY, json, jsonBody, operation, refusals } from './operations';

// The route takes `params` as unknown and checks it against the model it names; documented
// here with its shape, the model's limits in words.
export const GenerationParamsDoc = GenerationParams.meta({
	description:
		'`model` is one of GET /api/models\' ids (`demo` is the default a form starts on); another is refused with 422 `invalid_params` naming the models on offer, and nothing is held. Sizes, step ranges and guidance come from the model; `variation` only for a model with `variations: true`. Seed is random and guidance the model\'s default when left out.'
});
const JobRequestDoc = JobRequest.extend({
	params: GenerationParamsDoc,
	count: JobRequest.shape.count.meta({ description: 'How many images (1–4): the same settings with seeds s, s+1, …; each image its own job and hold.' })
});
const jobId = z.object({ id: z.string().meta({ description: 'The job\'s id.' }) });
const imageId = z.object({ id: z.string().meta({ description: 'The image\'s id (the job\'s imageUrl names it).' }) });

export const requesterPaths: ZodOpenApiPathsObject = {
	'/api/models': {
		get: operation('public', {
			tags: ['Requesters'],
			summary: 'The models on offer',
			description:
				'What a form and a quote need: sizes, step ranges per tier, guidance, cost weight; and what the model draws (`description`), prompts to start from (`examples`) and whether it varies pictures (`variations`). Every deployment has the built-in `demo` (shapes; listed first, the default) and `objects` (everyday things; no variations); SD-Turbo where configured. A job goes only to an Island that advertises its model.',
			responses: { 200: json('The models.', ModelList) }
		})
	},
	'/api/models/{id}/tokenizer': {
		get: operation('public', {
			tags: ['Requesters'],
			summary: 'A model\'s tokenizer.json',
			description:
				'For the prompt-length warning (how many tokens a prompt makes, and which words the model drops). A remote model\'s file is fetched once by the server and checked against its manifest\'s sha256; for a model the app ships, 308 to its static file.',
			requestParams: { path: z.object({ id: z.string().meta({ description: 'The model\'s id.' }) }) },
			responses: {
				200: { description: 'The tokenizer (Hugging Face tokenizer.json).', content: { 'application/json': { schema: z.looseObject({}) } } },
				308: { description: 'A model the app ships: `Location` names its static tokenizer.json.' },
				...refusals([404, 502], { 404: 'No such model.', 502: '`model_unavailable`: the tokenizer could not be fetched right now; try again in a minute.' })
			}
		})
	},
	'/api/jobs/quote': {
		post: operation('jobs:read', {
			tags: ['Requesters'],
			summary: 'Price a request',
			description: 'Nothing is held. `cost` is one image\'s, `total` the request\'s (`count` images).',
			requestBody: jsonBody(JobRequestDoc),
			responses: { 200: json('The cost in credits, its tier, and the request\'s total.', Quote), ...refusals([...AUTHED, ...JSON_BODY, 429]) }
		})
	},
	'/api/jobs': {
		post: operation('jobs:write', {
			tags: ['Requesters'],
			summary: 'Submit a request of 1–4 images',
			description:
				'Holds each image\'s cost and queues its job in one transaction; any refusal holds nothing (a request that can\'t be paid in full is refused whole). Needs a verified identity. A retry with the same `Idempotency-Key` and body replays the first answer (`Idempotent-Replayed: true`).',
			requestParams: { header: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }) },
			requestBody: jsonBody(JobRequestDoc),
			responses: {
				201: json('Queued; `Location` names the first job.', SubmitResult),
				...refusals([...AUTHED, 402, 404, 409, 410, ...JSON_BODY, 429], {
					403: '`kyc_required` (verify first), or a key without `jobs:write`.',
					404: '`image_not_found`: a variation of a picture that is not yours (or no such picture).',
					409: '`idempotency_key_reused` with another body.',
					410: '`image_withdrawn`: a variation of a picture that was withdrawn.',
					422: '`invalid_params` (see `issues`), `prompt_rejected` or `invalid_request`.',
					429: '`too_many_jobs`: more images queued or running than `MAX_ACTIVE_JOBS_PER_USER` allows (4), counting this request\'s; or `rate_limited`. `Retry-After` says when to try again.'
				})
			}
		}),
		get: operation('jobs:read', {
			tags: ['Requesters'],
			summary: 'Your jobs, newest first',
			description: 'Newest request first, its images in seed order. Jobs whose picture you deleted are left out. `batch` lists one request\'s images, `active=true` your queue (queued and running).',
			requestParams: { query: JobListQuery },
			responses: { 200: json('Your jobs.', JobList), ...refusals([...AUTHED, 422, 429]) }
		})
	},
	'/api/jobs/{id}': {
		get: operation('jobs:read', {
			tags: ['Requesters'],
			summary: 'One of your jobs',
			description: 'With `progress` while running and a signed `shareUrl` once it has a picture.',
			requestParams: { path: jobId },
			responses: { 200: json('The job.', JobResponse), ...refusals([...AUTHED, 404, 429]) }
		}),
		delete: operation('jobs:write', {
			tags: ['Requesters'],
			summary: 'Cancel a job',
			description: 'A queued or running job is cancelled and its hold refunded.',
			requestParams: { path: jobId },
			responses: { 200: json('The cancelled job.', JobResponse), ...refusals([...AUTHED, 404, 409, 429], { 409: '`job_finished`: it already ended.' }) }
		})
	},
	'/api/jobs/{id}/image': {
		delete: operation('jobs:write', {
			tags: ['Requesters'],
			summary: 'Delete a job\'s picture',
			description:
				'The picture (and any redrawn copy) is deleted, its share links answer 404, the prompt is erased, and the job leaves your history; the job itself stays (its cost is in the ledger) and says `imageDeletedAt`. Pending spot checks of it are cancelled. Nothing is refunded.',
			requestParams: { path: jobId },
			responses: { 200: json('The job, without its picture.', JobResponse), ...refusals([...AUTHED, 404, 409, 429], { 409: '`no_image`: the job has no picture (not finished, or already deleted).' }) }
		})
	},
	'/api/jobs/{id}/events': {
		get: operation('jobs:read', {
			tags: ['Requesters'],
			summary: 'Follow a job (server-sent events)',
			description:
				'Events `status`, `progress`, `completed`, `failed`, each a JSON snapshot with the job\'s version as its id. Resumable with `Last-Event-ID`; 204 once a finished job was seen.',
			requestParams: { path: jobId },
			responses: {
				200: { description: 'An event stream.', content: { 'text/event-stream': { schema: z.string() } } },
				204: { description: 'Finished and already seen: stop reconnecting.' },
				...refusals([...AUTHED, 404, 429])
			}
		})
	},
	'/api/jobs/events': {
		get: operation('jobs:read', {
			tags: ['Requesters'],
			summary: 'Follow several jobs (server-sent events)',
			description:
				'One connection for up to 50 of your jobs: the events of `/api/jobs/{id}/events`, each with its job\'s `id` (no event ids; a reconnect gets each job\'s current state first). A finished job drops out; 204 once all have finished.',
			requestParams: { query: z.object({ ids: z.string().meta({ description: 'Comma-separated job ids (1–50), all yours.' }) }) },
			responses: {
				200: { description: 'An event stream.', content: { 'text/event-stream': { schema: z.string() } } },
				204: { description: 'All of them finished: stop reconnecting.' },
				...refusals([...AUTHED, 404, 422, 429], { 404: 'One of them is not yours, or does not exist.' })
			}
		})
	},
	'/api/jobs/{id}/share': {
		post: operation('jobs:write', {
			tags: ['Requesters'],
			summary: 'A share link to the picture',
			description: 'Signed and expiring (7 days); anyone with it sees the picture until then, or until you delete it.',
			requestParams: { path: jobId },
			responses: { 200: json('The link.', ShareLink), ...refusals([...AUTHED, 404, 409, 429], { 409: '`no_image`: no picture (yet).' }) }
		})
	},
	'/api/images/{id}.png': {
		get: operation('jobs:read', {
			tags: ['Requesters'],
			summary: 'A picture',
			description: 'Its owner\'s (a session or a key with `jobs:read`), or anyone\'s with a share link\'s `exp` and `sig`.',
			requestParams: {
				path: imageId,
				query: z.object({ exp: z.string().optional().meta({ description: 'A share link\'s expiry.' }), sig: z.string().optional().meta({ description: 'A share link\'s signature.' }) })
			},
			responses: {
				200: { description: 'The PNG.', content: { 'image/png': { schema: z.string().meta({ contentEncoding: 'binary' }) } } },
				...refusals([401, 404, 410], { 404: 'No such picture, not yours, deleted, or the link expired.', 410: '`image_withdrawn`: its Island was caught lying; the job has a redrawn picture.' })
			}
		})
	},
	'/api/credits/purchase': {
		post: operation('credits:buy', {
			tags: ['Requesters'],
			summary: 'Buy a credit pack (virtual during the beta)',
			description: 'A retry with the same `Idempotency-Key` and body replays the first answer (`Idempotent-Replayed: true`).',
			requestParams: { header: z.object({ 'idempotency-key': z.string().min(1).max(200) }) },
			requestBody: jsonBody(PurchaseRequest),
			responses: {
				201: json('Credited (or the first answer replayed).', PurchaseResult),
				...refusals([...AUTHED, ...JSON_BODY, 409, 429], { 400: '`idempotency_key_required` or `invalid_idempotency_key`, or malformed JSON.', 409: '`idempotency_key_reused` with another body.' })
			}
		})
	}
};
