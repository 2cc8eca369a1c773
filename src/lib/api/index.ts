// The one API contract, client-safe: the shapes the server answers and the pages and Islands
// read. Errors: every refusal is `ApiErrorBody` ({ error: { code, message, issues? } }).
export * from './jobs';
export * from './islands';
export { ApiErrorBody } from '../schemas/errors';
