import type { SandboxKycInput } from '$lib/schemas/kyc';
import type { KycStatus } from '../auth/users';

/**
 * The sandbox decides from the name alone so every path can be tried by hand and in tests:
 * "reject" anywhere → rejected, "pending" → waits for an admin, anything else → verified.
 */
export function sandboxOutcome(input: SandboxKycInput): { status: Exclude<KycStatus, 'unverified'>; reason: string } {
	const name = input.legalName.toLowerCase();
	if (name.includes('reject')) {
		return { status: 'rejected', reason: 'Sandbox: the name contains "reject", so the sandbox rejected it.' };
	}
	if (name.includes('pending')) return { status: 'pending', reason: 'Sandbox: held for an admin to review.' };
	return { status: 'verified', reason: 'Sandbox: verified at once.' };
}
