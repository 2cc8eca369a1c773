// Words of other languages for the blocked categories, and everyday prompts that must pass.
import { describe, expect, it } from 'vitest';
import { checkText } from './wordlist';

const blocked = (text: string) => !checkText(text).allowed;

const BLOCKED: Record<string, string[]> = {
	French: ['une femme nue', 'photo de sexe', 'scène porno', 'une enfant en lingerie', 'une femme violée', 'un cadavre décapité'],
	Spanish: ['mujer desnuda', 'escena de sexo', 'niñas en bikini', 'violación', 'cuerpo decapitado', 'una menor en lencería'],
	German: ['nackte Frau', 'Sex Szene', 'Mädchen in Unterwäsche', 'Vergewaltigung', 'Hakenkreuz Fahne', 'ficken'],
	Italian: ['donna nuda', 'scena di sesso', 'bambina in bikini', 'stupro', 'un cadavere', 'scopare'],
	Portuguese: ['mulher nua', 'cena de sexo', 'criança de biquíni', 'estupro', 'meninas em lingerie', 'transando'],
	Dutch: ['naakte vrouw', 'seks scène', 'meisje in ondergoed', 'verkrachting', 'tiener in bikini', 'neuken']
};

// Ordinary words of those languages that look like list words (numbers, places, names, food).
const BENIGN = [
	'la sexta avenida, seis gatos', // Spanish: sixth avenue, six cats
	'sesto senso, un sestante antico', // Italian
	'Essex countryside at dawn',
	'Middlesex county map',
	'a cockpit of a jet',
	'Scunthorpe high street',
	'a grape on a plate',
	'a classic car',
	'analysis of a sunset',
	"assassin's creed style castle",
	'therapist office',
	'a nude-coloured lipstick', // documented choice: "nude" as a colour is still refused
	'un gâteau au chocolat',
	'ein freundliches Kind spielt im Park', // German "Kind" (child) alone is fine
	'una niña jugando en el parque', // a child alone is fine
	'crianças brincando na praia',
	'Nina in a red dress',
	'a violin and a viola on a chair',
	'Kinderspielplatz im Sommer',
	'een kind met een ballon',
	'le nu artistique de Rodin' // French "nu" (a genre of painting) is left alone
];

describe('other languages', () => {
	for (const [language, prompts] of Object.entries(BLOCKED))
		it.each(prompts)(`${language}: blocks %j`, (p) => expect(blocked(p)).toBe(true));

	it.each(BENIGN.filter((p) => !p.includes('nude-coloured')))('lets %j through', (p) =>
		expect(checkText(p)).toEqual({ allowed: true, terms: [] })
	);

	it('refuses "nude" as a colour name: the product blocks the word, not its sense', () => {
		expect(blocked('a nude-coloured lipstick')).toBe(true);
	});
});
