// An rnnlab language model in the browser: model.onnx + vocab.json from `rnnlab export RUN`, run by
// onnxruntime-web (WebAssembly). No server beyond static files, no build step.
//
//   import { loadModel } from './rnnlab-web.js';
//   const model = await loadModel('./');            // the folder holding model.onnx and vocab.json
//   const text = await model.generate('the ', { length: 200, temperature: 0.8, top_k: 40, top_p: 0.95, seed: 1 });
//
// Sampling is rnnlab's (`rnnlab generate`, the server's settings): temperature, top_k, top_p, greedy,
// and a seed that repeats the page's own output (its generator is not PyTorch's: the same seed gives
// the same text here, not the server's text).
//
// onnxruntime-web is looked for in ./ort/ (what `rnnlab export --page` copies) and then in
// ./node_modules/onnxruntime-web/dist/ (`npm install onnxruntime-web` beside this file).

const ORT_CANDIDATES = ['./ort/ort.wasm.min.mjs', './node_modules/onnxruntime-web/dist/ort.wasm.min.mjs'];
const EOS = '<eos>';

let ortPromise = null;

export function loadOrt() {
  if (!ortPromise) {
    ortPromise = (async () => {
      const failures = [];
      for (const candidate of ORT_CANDIDATES) {
        const url = new URL(candidate, document.baseURI).href;
        try {
          const ort = await import(url);
          ort.env.wasm.numThreads = 1;                             // no cross-origin isolation needed
          ort.env.wasm.wasmPaths = url.slice(0, url.lastIndexOf('/') + 1);
          return ort;
        } catch (error) {
          failures.push(`${candidate}: ${error.message || error}`);
        }
      }
      throw new Error(`onnxruntime-web not found (${failures.join('; ')}); put its dist files in ort/ ` +
                      'beside this page: `rnnlab export RUN --page --ort-dist node_modules/onnxruntime-web/dist` ' +
                      'after `npm install onnxruntime-web`');
    })();
  }
  return ortPromise;
}

export async function loadModel(base = './') {
  const ort = await loadOrt();
  const folder = new URL(base, document.baseURI);
  const response = await fetch(new URL('vocab.json', folder));
  if (!response.ok) throw new Error(`vocab.json: HTTP ${response.status}`);
  const vocab = await response.json();
  const session = await ort.InferenceSession.create(new URL('model.onnx', folder).href,
                                                    { executionProviders: ['wasm'] });
  return new LanguageModel(ort, session, vocab);
}

export class LanguageModel {
  constructor(ort, session, vocab) {
    this.ort = ort;
    this.session = session;
    this.vocab = vocab;
    this.tokens = vocab.tokens;
    this.level = vocab.level;
    this.index = new Map(this.tokens.map((token, id) => [token, id]));
    this.longest = Math.max(...this.tokens.map((t) => t.length));
    this.reset();
  }

  // A fresh (all-zero) recurrent state.
  reset() {
    this.state = {};
    for (const { name, shape } of this.vocab.state) {
      this.state[name] = new this.ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
    }
  }

  // Text to tokens as rnnlab's tokeniser splits it (char, word, events; ja by longest match over the
  // vocabulary, since MeCab does not run here). A prime not ending in a newline gets no closing <eos>.
  split(text) {
    if (this.vocab.lowercase) text = text.toLowerCase();
    if (this.level === 'char') return Array.from(text);
    if (this.level === 'events') return text.split(/\s+/).filter(Boolean);
    const lines = text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    const tokens = [];
    for (const line of lines) {
      if (this.level === 'word') tokens.push(...line.split(/\s+/).filter(Boolean));
      else tokens.push(...this.longestMatch(line));
      tokens.push(EOS);
    }
    if (tokens.length && tokens[tokens.length - 1] === EOS && !text.endsWith('\n')) tokens.pop();
    return tokens;
  }

  longestMatch(line) {
    const out = [];
    const chars = Array.from(line);
    for (let i = 0; i < chars.length;) {
      if (!chars[i].trim()) { i++; continue; }
      let taken = 1;
      for (let n = Math.min(this.longest, chars.length - i); n > 1; n--) {
        if (this.index.has(chars.slice(i, i + n).join(''))) { taken = n; break; }
      }
      out.push(chars.slice(i, i + taken).join(''));
      i += taken;
    }
    return out;
  }

  // Token ids of a prime; the start token (a line break) when the prime is empty, as `rnnlab generate`.
  encode(text) {
    const tokens = text ? this.split(text) : [];
    const unk = this.vocab.unk ?? 0;
    const ids = tokens.map((t) => this.index.get(t) ?? unk);
    return ids.length ? ids : [this.index.get(this.vocab.start)];
  }

  // What a token adds to a running text, after `previous` (null at the start).
  piece(token, previous) {
    if (this.level === 'events') return token + ' ';
    if (this.level === 'char') return token;
    if (token === EOS) return '\n';
    return (this.level === 'word' && previous !== null && previous !== EOS ? ' ' : '') + token;
  }

  // Feed one token id; returns the next token's logits (Float32Array) and keeps the new state.
  async step(id) {
    const ids = new this.ort.Tensor('int64', BigInt64Array.from([BigInt(id)]), [1, 1]);
    const out = await this.session.run({ ids, ...this.state });
    for (const { name } of this.vocab.state) this.state[name] = out[`${name}_out`];
    return out.logits.data;
  }

  // Feed a prime from a fresh state; returns the logits after its last token.
  async prime(text) {
    this.reset();
    let logits = null;
    for (const id of this.encode(text)) logits = await this.step(id);
    return logits;
  }

  // The next-token distribution after `text` (from a fresh state), at a temperature.
  async probabilities(text, temperature = 1) {
    return Array.from(softmax(await this.prime(text), temperature));
  }

  // The next-token distribution after `text` as sampling sees it: temperature, top_k, top_p, greedy.
  async distribution(text, settings = {}) {
    return Array.from(distribution(await this.prime(text), settings));
  }

  // The prime followed by `length` sampled tokens; onPiece(piece) is called as each is chosen, and
  // onToken(id, probabilities) with the distribution it was drawn from. Settings as `distribution`.
  async generate(text, { length = 200, seed = null, onPiece = null, onToken = null, ...settings } = {}) {
    const random = seed === null || seed === undefined ? Math.random : mulberry32(seed);
    const ids = this.encode(text);
    let logits = await this.prime(text);
    let previous = text ? this.tokens[ids[ids.length - 1]] : null;
    let out = text;
    for (let i = 0; i < length; i++) {
      const probs = distribution(logits, settings);
      const id = draw(probs, random);
      if (onToken) onToken(id, probs);
      const token = this.tokens[id];
      const piece = this.piece(token, previous);
      out += piece;
      if (onPiece) onPiece(piece);
      previous = token;
      logits = await this.step(id);
    }
    return out;
  }
}

export function softmax(logits, temperature = 1) {
  const t = Math.max(temperature, 1e-6);
  let top = -Infinity;
  for (const v of logits) top = Math.max(top, v / t);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += (out[i] = Math.exp(logits[i] / t - top));
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

// Settings as rnnlab checks them (sampling.py and the server): a wrong one throws, naming it.
export function checkSettings({ temperature = 1, top_k = 0, top_p = 1, greedy = false } = {}) {
  if (!(temperature >= 1e-6 && temperature < Infinity)) throw new RangeError(`temperature must be a positive number, got ${temperature}`);
  if (!Number.isInteger(top_k) || top_k < 0) throw new RangeError(`top_k must be a whole number, 0 or more, got ${top_k}`);
  if (!(top_p >= 1e-6 && top_p <= 1)) throw new RangeError(`top_p must be in (0, 1], got ${top_p}`);
  return { temperature, top_k, top_p, greedy: Boolean(greedy) };
}

// The index of the largest value, the first of equals (as torch.argmax).
export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function keptSoftmax(scaled, keep) {
  let top = -Infinity;
  for (let i = 0; i < scaled.length; i++) if (keep[i]) top = Math.max(top, scaled[i]);
  const out = new Float64Array(scaled.length);
  let sum = 0;
  for (let i = 0; i < scaled.length; i++) if (keep[i]) sum += (out[i] = Math.exp(scaled[i] - top));
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

// What rnnlab samples from (filter_logits and choose in src/rnnlab/generate/sampling.py): the logits
// divided by the temperature; top_k (0: off) keeps the k largest, and every one equal to the k-th;
// top_p (1: off) then keeps, most likely first, the tokens whose predecessors' probability (after
// top-k, renormalised) is still under top_p, so the first always stays (equal probabilities in order
// of id); the kept ones renormalised. greedy: everything on the most likely token.
export function distribution(logits, settings = {}) {
  const { temperature, top_k, top_p, greedy } = checkSettings(settings);
  const n = logits.length;
  if (greedy) {
    const out = new Float64Array(n);
    out[argmax(logits)] = 1;
    return out;
  }
  const scaled = Float64Array.from(logits, (v) => v / temperature);
  const keep = new Uint8Array(n).fill(1);
  if (top_k > 0 && top_k < n) {
    const kth = Float64Array.from(scaled).sort()[n - top_k];            // ascending: the k-th largest
    for (let i = 0; i < n; i++) if (scaled[i] < kth) keep[i] = 0;
  }
  if (top_p < 1) {
    const probs = keptSoftmax(scaled, keep);
    const order = Array.from(probs.keys()).filter((i) => keep[i]).sort((a, b) => probs[b] - probs[a] || a - b);
    let before = 0;
    for (const i of order) {
      if (before >= top_p) keep[i] = 0;
      before += probs[i];
    }
  }
  return keptSoftmax(scaled, keep);
}

// One index drawn with probability probs[i] (inverse transform: one uniform number from `random`,
// a function giving [0, 1)); a token of probability 0 is never drawn.
export function draw(probs, random = Math.random) {
  let total = 0;
  for (const p of probs) total += p;
  const point = random() * total;
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (!(probs[i] > 0)) continue;
    cumulative += probs[i];
    last = i;
    if (point < cumulative) return i;
  }
  return last;                                  // rounding at the very top of the range
}

// A token id sampled from logits: sample(logits, {temperature, top_k, top_p, greedy}, random); a number
// in place of the settings is a temperature.
export function sample(logits, settings = {}, random = Math.random) {
  return draw(distribution(logits, typeof settings === 'number' ? { temperature: settings } : settings), random);
}

// A seedable generator of numbers in [0, 1) (mulberry32: the seed's low 32 bits).
export function mulberry32(seed) {
  let a = Number(seed) >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
