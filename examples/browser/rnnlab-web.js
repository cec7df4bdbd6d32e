// An rnnlab language model in the browser: model.onnx + vocab.json from `rnnlab export RUN`, run by
// onnxruntime-web (WebAssembly). No server beyond static files, no build step.
//
//   import { loadModel } from './rnnlab-web.js';
//   const model = await loadModel('./');            // the folder holding model.onnx and vocab.json
//   const text = await model.generate('the ', { length: 200, temperature: 0.8 });
//
// onnxruntime-web is looked for in ./ort/ (what `rnnlab export --page` copies) and then in
// ./node_modules/onnxruntime-web/dist/ (`npm install` beside this file).

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
      throw new Error(`onnxruntime-web not found (${failures.join('; ')}); run \`npm install\` in ` +
                      'examples/browser or `rnnlab export RUN --page` with it installed');
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

  // The prime followed by `length` sampled tokens; onPiece(piece) is called as each is chosen.
  async generate(text, { length = 200, temperature = 1, seed = null, onPiece = null } = {}) {
    const random = seed === null ? Math.random : mulberry32(seed);
    const ids = this.encode(text);
    let logits = await this.prime(text);
    let previous = text ? this.tokens[ids[ids.length - 1]] : null;
    let out = text;
    for (let i = 0; i < length; i++) {
      const id = sample(logits, temperature, random);
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

export function sample(logits, temperature, random = Math.random) {
  const probs = softmax(logits, temperature);
  let r = random();
  for (let i = 0; i < probs.length; i++) {
    r -= probs[i];
    if (r <= 0) return i;
  }
  return probs.length - 1;
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
