import { ApiError } from '../http';
import type { SessionUser } from '../auth/users';

/** Image generation needs a verified identity (content safety; no free tier). Checked before any credit moves. */
export function assertMayGenerate(user: SessionUser) {
	if (user.kycStatus !== 'verified') {
		throw new ApiError(
			403,
			'kyc_required',
			'Verify your identity before generating images: it is required for content safety, and there is no free tier.'
		);
	}
}
