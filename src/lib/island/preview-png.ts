import type { Preview } from '../diffusion/preview';
import { encodePng } from '../diffusion/png';

/**
 * A preview as PNG bytes at latent resolution (image size / the model's latent downscale, e.g.
 * 64×64 for 512² at 8): a few KB, cheap to send every step; the page scales it up.
 */
export function latentPreviewPng(p: Preview): Uint8Array {
	return encodePng(p.rgba, p.width, p.height);
}
