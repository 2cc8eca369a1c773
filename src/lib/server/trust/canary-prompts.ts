// Canary prompts: ordinary prompts of each model's domain, made here (never a requester's),
// so a canary looks to its Island like any job of that model. One generator per built-in
// model's training domain; any other model draws from its manifest's examples, else from
// general subjects (SD-Turbo draws anything).
import { randomInt } from 'node:crypto';
import type { ModelManifest } from '$lib/schemas/manifest';

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)];
const article = (noun: string) => (/^[aeiou]/.test(noun) ? 'an' : 'a');

const COLOURS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink', 'white', 'black'];

/** A colour other than `not`, for a background that differs from the thing on it. */
function background(not?: string): string {
	let colour = pick(COLOURS);
	while (colour === not) colour = pick(COLOURS);
	return colour;
}

// tools/demo-model/dataset.py: one coloured shape on a plain background.
const DEMO = {
	shapes: ['circle', 'square', 'triangle', 'star', 'heart', 'diamond', 'cross', 'ring'],
	places: ['', ' at the top', ' at the bottom', ' on the left', ' on the right', ' in the centre'],
	sizes: ['', 'small ', 'large ']
};

// tools/objects-model/things.json: one everyday thing (an emoji picture) on a plain background.
// Singular things only, so "a"/"an" always reads right.
const OBJECTS = {
	things: [
		'cat', 'dog', 'rabbit', 'pig', 'cow', 'horse', 'elephant', 'giraffe', 'lion', 'frog', 'turtle', 'fish', 'dolphin', 'whale',
		'octopus', 'crab', 'butterfly', 'bee', 'bird', 'penguin', 'owl', 'duck', 'panda', 'fox', 'red apple', 'green apple', 'banana',
		'strawberry', 'lemon', 'pineapple', 'pear', 'carrot', 'pizza', 'hamburger', 'doughnut', 'birthday cake', 'car', 'bus',
		'bicycle', 'airplane', 'rocket', 'sailboat', 'train', 'sunflower', 'rose', 'cactus', 'palm tree', 'guitar', 'balloon',
		'house', 'teddy bear', 'umbrella', 'kite', 'sun', 'moon', 'snowman'
	],
	places: ['', ' in the top left corner', ' at the top', ' on the left', ' on the right', ' in the center', ' at the bottom right'],
	sizes: ['', 'small ', 'big ']
};

const GENERAL = {
	subjects: ['a lighthouse', 'a red apple', 'a cat asleep', 'a sailing boat', 'a mountain lake', 'a bowl of fruit', 'an old bicycle', 'a rocket'],
	styles: ['', ', watercolour', ', photograph', ', oil painting', ', at sunset', ', in the snow']
};

function demoPrompt(): string {
	const colour = pick(COLOURS);
	return `a ${pick(DEMO.sizes)}${colour} ${pick(DEMO.shapes)}${pick(DEMO.places)} on a ${background(colour)} background`;
}

function objectsPrompt(): string {
	const noun = `${pick(OBJECTS.sizes)}${pick(OBJECTS.things)}`;
	return `${article(noun)} ${noun}${pick(OBJECTS.places)} on a ${background()} background`;
}

/** An ordinary prompt of the model's domain, as a requester might type it. */
export function canaryPrompt(model: Pick<ModelManifest, 'id' | 'examples'>): string {
	if (model.id === 'demo') return demoPrompt();
	if (model.id === 'objects') return objectsPrompt();
	if (model.examples?.length) return pick(model.examples);
	return `${pick(GENERAL.subjects)}${pick(GENERAL.styles)}`;
}

/** What the generators draw from (tests check each built-in domain's words). */
export const CANARY_DOMAINS = { demo: DEMO, objects: OBJECTS } as const;
