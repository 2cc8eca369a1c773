// The job broker (issue 4). Routes call these; other modules too (the built-in Island's token).
export type { Broker } from './context';
export { MAX_ATTEMPTS } from './context';
export { broker, createBroker, drainBroker, reapOnce, startBroker, stopBroker } from './runtime';
export { cancelJob, getOwnJob, JobListQuery, JobRequest, listOwnBatches, listOwnJobs, quote, submitJob, submitJobs, findOwnJob, notFound } from './requests';
export { claimOnce, longPollClaim, touchIsland, CLAIM_LONG_POLL_MS, type Claim } from './dispatch';
export { completeJob, reportFailure, reportProgress, MAX_RESULT_BYTES } from './island-calls';
export { inputPng } from './variations';
export { FailBody, ProgressBody } from '$lib/api';
export {
	HeartbeatBody,
	islandByToken,
	recordHeartbeat,
	RegisterIslandBody,
	registerIsland,
	requireIsland,
	requireIslandIdentity,
	ISLAND_TOKEN_PREFIX
} from './islands';
export { jobEventStream, jobsEventStream, isTerminal, sseResponse } from './stream';
export { DatabaseImageStore, sharedImageCacheControl, shareSecret, signedImageUrl, verifyImageSignature, type ImageStore } from './images';
export { leaseTtlMs } from './lease';
export { jobView, type JobView } from './views';
