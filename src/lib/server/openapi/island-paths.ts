// Islands: their owners register and list them; the Islands themselves claim and report jobs.
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { z } from 'zod';
import { ClaimBody, ClaimResponse, FailBody, HeartbeatBody, ProgressBody, RegisterIslandBody, ResultResponse } from '$lib/api/islands';
import { FailAccepted, IslandList, IslandRegistered, IslandResponse, ProgressAccepted } from '$lib/api/responses';
import { AUTHED, JSON_BODY, json, jsonBody, operation, refusals } from './operations';

const jobId = z.object({ id: z.string().meta({ description: 'The claimed job\'s id.' }) });
const LEASE_REFUSALS = {
	403: '`invalid_lease`: not this job\'s live lease; `island_quarantined`.',
	409: '`lease_expired`, `job_completed`, `job_failed`: late or replayed.',
	410: '`job_cancelled`: the requester cancelled it, or deleted its picture; drop it.'
};

export const islandPaths: ZodOpenApiPathsObject = {
	'/api/islands': {
		post: operation('islands:manage', {
			tags: ['Islands'],
			summary: 'Register an Island',
			description: 'Owners verify their identity first (Islands earn). The `isl_…` token is shown once.',
			requestBody: jsonBody(RegisterIslandBody),
			responses: {
				201: json('Registered.', IslandRegistered),
				...refusals([...AUTHED, ...JSON_BODY, 409, 429], { 403: '`owner_not_verified`, or a key without `islands:manage`.', 409: '`too_many_islands`.' })
			}
		}),
		get: operation('islands:manage', { tags: ['Islands'], summary: 'Your Islands', responses: { 200: json('Your Islands, newest first.', IslandList), ...refusals(AUTHED) } })
	},
	'/api/islands/{id}': {
		delete: operation('islands:manage', {
			tags: ['Islands'],
			summary: 'Remove an Island',
			description: 'Its token stops working at once; not while it has earnings in escrow.',
			requestParams: { path: z.object({ id: z.string() }) },
			responses: { 204: { description: 'Removed.' }, ...refusals([...AUTHED, 404, 409], { 409: '`escrow_held`.' }) }
		})
	},
	'/api/islands/heartbeat': {
		post: operation('island', {
			tags: ['Island protocol'],
			summary: 'Say what the Island can run, and stay online',
			requestBody: jsonBody(HeartbeatBody),
			responses: { 200: json('The Island as recorded.', IslandResponse), ...refusals([401, ...JSON_BODY]) }
		})
	},
	'/api/islands/claim': {
		post: operation('island', {
			tags: ['Island protocol'],
			summary: 'Take a job (long-poll, up to 25 s)',
			description: 'An empty body uses the last heartbeat\'s capabilities.',
			requestBody: { content: { 'application/json': { schema: ClaimBody } } },
			responses: {
				200: json('A job and its lease.', ClaimResponse),
				204: { description: 'No job within the long-poll: ask again.' },
				...refusals([400, 401, 403, 409, 413, 422, 429], { 403: '`island_quarantined` or `owner_not_verified`.', 409: '`lease_limit`: it already holds its lease.' })
			}
		})
	},
	'/api/islands/jobs/{id}/input.png': {
		get: operation('island', {
			tags: ['Island protocol'],
			summary: 'A variation\'s input picture',
			description: 'Only for the Island holding the job\'s lease; a variation\'s result counts only from the lease that fetched it.',
			requestParams: { path: jobId, header: z.object({ 'x-lease': z.string().meta({ description: 'The job\'s lease token.' }) }) },
			responses: {
				200: { description: 'The picture to vary (PNG).', content: { 'image/png': { schema: z.string().meta({ contentEncoding: 'binary' }) } } },
				...refusals([400, 401, 403, 404, 409, 410], { ...LEASE_REFUSALS, 400: '`lease_required`.', 404: '`no_input`: not a variation; `input_gone`: its picture no longer exists.' })
			}
		})
	},
	'/api/islands/jobs/{id}/progress': {
		post: operation('island', {
			tags: ['Island protocol'],
			summary: 'Report a step (and a preview); extends the lease',
			requestParams: { path: jobId },
			requestBody: jsonBody(ProgressBody),
			responses: { 200: json('The lease\'s new expiry.', ProgressAccepted), ...refusals([401, 403, 404, 409, 410, ...JSON_BODY], LEASE_REFUSALS) }
		})
	},
	'/api/islands/jobs/{id}/result': {
		post: operation('island', {
			tags: ['Island protocol'],
			summary: 'Upload the finished PNG',
			description: 'The PNG is checked (size, CRCs, no bomb) before it is stored and paid.',
			requestParams: { path: jobId, header: z.object({ 'x-lease': z.string().meta({ description: 'The job\'s lease token.' }) }) },
			requestBody: { required: true, content: { 'image/png': { schema: z.string().meta({ contentEncoding: 'binary' }) } } },
			responses: {
				200: json('Stored and settled.', ResultResponse),
				...refusals([400, 401, 403, 404, 409, 410, 413, 415, 422], { ...LEASE_REFUSALS, 422: '`invalid_png`: refused; the job went back to the queue.' })
			}
		})
	},
	'/api/islands/jobs/{id}/fail': {
		post: operation('island', {
			tags: ['Island protocol'],
			summary: 'Give up on a job',
			description: 'It goes back to the queue (never to this owner again), or fails with a refund after its last attempt.',
			requestParams: { path: jobId },
			requestBody: jsonBody(FailBody),
			responses: { 200: json('Where the job went.', FailAccepted), ...refusals([401, 403, 404, 409, 410, ...JSON_BODY], LEASE_REFUSALS) }
		})
	}
};
