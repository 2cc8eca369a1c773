// Runs the exported demo model with onnxruntime-node (CPU) following docs/model-format.md:
// tokenizer.json -> text encoder -> DDIM (v-prediction, CFG) -> VAE decoder.
// Checks output shapes, that different prompts give different images, and compares with
// the torch reference render written by export.py (reference/), same noise, same maths.
//
//   node tools/demo-model/check_onnx.mjs
// (DEMO_DIR and DEMO_REF point it at another model of the same format, e.g. the objects model)
// (uses onnxruntime-node and @huggingface/tokenizers from the app's node_modules, or from
//  ORT_CHECK_MODULES=/tmp/ortcheck/node_modules)
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const modulesDir = process.env.ORT_CHECK_MODULES ?? join(root, 'node_modules');
const require = createRequire(join(modulesDir, 'x.js'));
const ort = require('onnxruntime-node');
const { Tokenizer } = require('@huggingface/tokenizers');

const dir = process.env.DEMO_DIR ?? join(root, 'static', 'models', 'demo');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const tokJson = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
const tokenizer = new Tokenizer(tokJson, {});
const opts = { executionProviders: ['cpu'], intraOpNumThreads: 2 };
const te = await ort.InferenceSession.create(join(dir, manifest.files.textEncoder.url), opts);
const unet = await ort.InferenceSession.create(join(dir, manifest.files.unet.url), opts);
const dec = await ort.InferenceSession.create(join(dir, manifest.files.vaeDecoder.url), opts);

function assert(c, msg) {
  if (!c) {
    console.error('FAIL:', msg);
    process.exit(1);
  }
}

// ---- scheduler (diffusers squaredcos_cap_v2, DDIM leading spacing)
const T = manifest.scheduler.trainTimesteps;
const f = (t) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
const acp = [];
{
  let p = 1;
  for (let i = 0; i < T; i++) {
    const beta = Math.min(1 - f((i + 1) / T) / f(i / T), 0.999);
    p *= 1 - beta;
    acp.push(p);
  }
}
const timesteps = (steps) =>
  Array.from({ length: steps }, (_, i) => Math.floor((i * T) / steps) + manifest.scheduler.stepsOffset).reverse();

function ids(text) {
  const { maxLength, padId } = manifest.tokenizer;
  const enc = tokenizer.encode(text, { add_special_tokens: false });
  const out = new Int32Array(maxLength).fill(padId);
  enc.ids.slice(0, maxLength).forEach((v, i) => (out[i] = v));
  return out;
}

async function embed(text) {
  const { maxLength } = manifest.tokenizer;
  const r = await te.run({ input_ids: new ort.Tensor('int32', ids(text), [1, maxLength]) });
  const o = r.last_hidden_state;
  assert(o.dims.join() === [1, maxLength, manifest.io.textEncoder.outputs.last_hidden_state.shape[2]].join(), 'text encoder shape ' + o.dims);
  return o.data;
}

async function generate(prompt, width, height, noise, steps, guidance) {
  const DS = manifest.latent.downscale;
  const C = manifest.latent.channels;
  const h = height / DS, w = width / DS, n = C * h * w;
  const cond = await embed(prompt), uncond = await embed('');
  const D = cond.length / manifest.tokenizer.maxLength;
  const ehs = new Float32Array(2 * cond.length);
  ehs.set(uncond, 0);
  ehs.set(cond, cond.length);
  let x = Float32Array.from(noise);
  const ts = timesteps(steps);
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    const tPrev = i + 1 < ts.length ? ts[i + 1] : -1;
    const sample = new Float32Array(2 * n);
    sample.set(x, 0);
    sample.set(x, n);
    const r = await unet.run({
      sample: new ort.Tensor('float32', sample, [2, C, h, w]),
      timestep: new ort.Tensor('int64', BigInt64Array.from([BigInt(t), BigInt(t)]), [2]),
      encoder_hidden_states: new ort.Tensor('float32', ehs, [2, manifest.tokenizer.maxLength, D]),
    });
    const o = r.out_sample;
    assert(o.dims.join() === [2, C, h, w].join(), 'unet shape ' + o.dims);
    const aT = acp[t], aP = tPrev >= 0 ? acp[tPrev] : 1.0;
    const nx = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const v = o.data[j] + guidance * (o.data[n + j] - o.data[j]);
      const x0 = Math.sqrt(aT) * x[j] - Math.sqrt(1 - aT) * v;
      const eps = Math.sqrt(aT) * v + Math.sqrt(1 - aT) * x[j];
      nx[j] = Math.sqrt(aP) * x0 + Math.sqrt(1 - aP) * eps;
    }
    x = nx;
  }
  const lat = x.map((v) => v / manifest.latent.scale);
  const r = await dec.run({ latent_sample: new ort.Tensor('float32', lat, [1, C, h, w]) });
  const s = r.sample;
  assert(s.dims.join() === [1, 3, height, width].join(), 'decoder shape ' + s.dims);
  const rgb = new Uint8Array(3 * width * height);
  const hw = width * height;
  for (let p = 0; p < hw; p++)
    for (let c = 0; c < 3; c++)
      rgb[p * 3 + c] = Math.round(Math.min(1, Math.max(0, (s.data[c * hw + p] + 1) / 2)) * 255);
  return rgb;
}

function meanColour(rgb) {
  const m = [0, 0, 0];
  for (let i = 0; i < rgb.length; i++) m[i % 3] += rgb[i];
  return m.map((v) => Math.round(v / (rgb.length / 3)));
}

// ---- tokenizer vs the training vocabulary
const refDir = process.env.DEMO_REF ?? join(here, 'reference');
const ref = existsSync(join(refDir, 'ref.json')) ? JSON.parse(readFileSync(join(refDir, 'ref.json'), 'utf8')) : null;
if (ref) for (const r of ref.refs) assert(Array.from(ids(r.prompt)).join() === r.ids.join(), 'token ids differ for ' + r.prompt);
assert(Array.from(ids('')).every((v) => v === 0), 'empty prompt must be all padding');

const steps = manifest.steps.default, guidance = manifest.guidance.default;
// ---- torch reference comparison
if (ref) {
  for (const r of ref.refs) {
    const noise = new Float32Array(readFileSync(join(refDir, r.noise)).buffer.slice(0));
    const t0 = Date.now();
    const rgb = await generate(r.prompt, r.width, r.height, noise, ref.steps, ref.guidance);
    const ms = Date.now() - t0;
    const exp = readFileSync(join(refDir, r.image));
    let maxd = 0, sum = 0;
    for (let i = 0; i < rgb.length; i++) {
      const d = Math.abs(rgb[i] - exp[i]);
      maxd = Math.max(maxd, d);
      sum += d;
    }
    console.log(`${r.width}x${r.height} "${r.prompt}": ${ms} ms, mean colour ${meanColour(rgb)}, vs torch max |diff| ${maxd}, mean ${(sum / rgb.length).toFixed(4)}`);
    assert(sum / rgb.length < 0.5, 'ONNX render differs from torch reference');
  }
}
// ---- prompts give different images; all sizes run
function gaussian(n, seed) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}
const C = manifest.latent.channels;
const noise = gaussian(C * (256 / manifest.latent.downscale) ** 2, 1);
const a = await generate('a red circle on a blue background', 256, 256, noise, steps, guidance);
const b = await generate('a big white square on a black background', 256, 256, noise, steps, guidance);
let diff = 0;
for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
console.log('mean colour red/blue', meanColour(a), 'white/black', meanColour(b), 'mean |diff|', (diff / a.length).toFixed(1));
assert(diff / a.length > 10, 'prompts must change the image');
for (const [w, h] of [[512, 512], [384, 256], [256, 448]]) {
  const nz = gaussian(C * (w / manifest.latent.downscale) * (h / manifest.latent.downscale), w + h);
  const t0 = Date.now();
  await generate('a green heart on a yellow background', w, h, nz, 4, guidance);
  console.log(`${w}x${h} ok (${Date.now() - t0} ms, 4 steps)`);
}
console.log('OK');
