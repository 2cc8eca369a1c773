/**
 * A download name from the prompt, e.g. "a-red-circle-on-a-blue-background-1234.png":
 * readable in a downloads folder, safe on every file system, the seed keeping two images
 * of one prompt apart.
 */
export function imageFileName(prompt: string, seed: number | null | undefined): string {
	const slug = prompt
		.normalize('NFKD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '')
		.slice(0, 60)
		.replace(/-+$/, '');
	return `${slug || 'image'}${seed !== null && seed !== undefined ? `-${seed}` : ''}.png`;
}
