// rnnlab live page (p5.js, global mode). Two connections through the browser client /rnnlab.js,
// each with its own recurrent state on the server: one streams text or note tokens, one continues
// mouse drawings (each reconnects on its own should the server restart). What arrives and what was
// drawn is kept in window.rnnlabPage, so a test can compare the two.

const PANEL = 450, HEIGHT = 420, NOTE_STRIP = 90;
const page = window.rnnlabPage = {
  ready: false, models: [],
  text: { model: null, received: "", count: 0, drawn: "", notes: [] },
  strokes: { model: null, user: [], received: [], segments: [], drawnSegments: 0 },
};
let textModel = null, strokeModel = null, pen = null, userStart = null;

// A server started with a token serves this page at /?token=...; the page passes it on to its own calls.
const TOKEN = new URLSearchParams(location.search).get("token");
function withToken(path) { return TOKEN ? path + "?token=" + encodeURIComponent(TOKEN) : path; }
function wsUrl() { return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + withToken("/ws"); }
function status(line) { document.getElementById("status").textContent = line; }
function complain(error) { status("server: " + error.message); }

async function connect(onOutput) {
  const model = await rnnlab.connect(wsUrl());
  model.on("output", onOutput);
  model.on("error", complain);
  model.on("reconnecting", () => status("connection lost; reconnecting…"));
  model.on("open", (event) => { if (event.reconnected) status("reconnected"); });
  return model;
}

// ---- notes: event tokens such as Pitch_60, NOTE_ON_60 or note_on_60 become bars ----------------
function notePitch(token) {
  const match = /(?:pitch|note_?on|note)[_:\- ]?(\d{1,3})/i.exec(token);
  return match ? Number(match[1]) : null;
}

function onTextMessage(message) {
  if (message.type !== "output" || message.model !== page.text.model) return;
  page.text.received += message.text;
  page.text.count += 1;
  const pitch = message.pitch !== undefined ? message.pitch : notePitch(message.token);
  if (pitch !== null) page.text.notes.push({ pitch, step: page.text.notes.length });
}

function onStrokeMessage(message) {
  if (message.type !== "output" || message.model !== page.strokes.model || message.index === undefined) return;
  page.strokes.received.push(message);
  if (message.pen === "end") return;
  const last = pen || userStart || { x: PANEL * 1.5, y: HEIGHT / 2, down: true };
  const next = { x: last.x + message.values[0], y: last.y + message.values[1], down: message.pen === "down" };
  if (last.down) page.strokes.segments.push({ x1: last.x, y1: last.y, x2: next.x, y2: next.y });
  pen = next;
}

async function start() {
  const listing = await (await fetch(withToken("/models"))).json();
  page.models = listing.models;
  const tokenModels = listing.models.filter((m) => m.kind === "tokens");
  const strokeModels = listing.models.filter((m) => m.kind === "strokes");
  fillSelect("token-model", tokenModels, (name) => (page.text.model = name));
  fillSelect("stroke-model", strokeModels, (name) => (page.strokes.model = name));
  textModel = await connect(onTextMessage);
  strokeModel = await connect(onStrokeMessage);
  document.getElementById("play").onclick = play;
  document.getElementById("clear-text").onclick = () => {
    page.text.received = ""; page.text.count = 0; page.text.notes = [];
  };
  document.getElementById("clear-drawing").onclick = clearDrawing;
  const slider = document.getElementById("temperature");
  slider.oninput = () => {
    document.getElementById("temperature-value").textContent = slider.value;
    for (const model of [textModel, strokeModel]) model.set({ temperature: Number(slider.value) }).catch(complain);
  };
  slider.oninput();
  page.ready = true;
  status("connected: " + listing.models.map((m) => m.name + " (" + m.kind + ")").join(", "));
}

function fillSelect(id, models, choose) {
  const select = document.getElementById(id);
  select.innerHTML = "";
  for (const m of models) select.add(new Option(m.name, m.name));
  if (!models.length) select.add(new Option("(none served)", ""));
  select.onchange = () => choose(select.value || null);
  choose(models.length ? models[0].name : null);
}

// Public so a test (or the console) can drive the page: window.rnnlabPlay(200, 30).
function play(n = 300, interval = 30) {
  if (!page.text.model) return status("no text or note model is served");
  textModel.reset(page.text.model).catch(complain);
  textModel.stream({ model: page.text.model, n: typeof n === "number" ? n : 300, interval }).catch(complain);
}
window.rnnlabPlay = play;

function clearDrawing() {
  page.strokes.user = []; page.strokes.received = []; page.strokes.segments = [];
  pen = null; userStart = null;
}

// ---- the user's strokes, sent as stroke-3 rows (dx, dy, pen lifted after the point) -----------
function inDrawing(x, y) { return x > PANEL && x < 2 * PANEL && y > 0 && y < HEIGHT; }

function mousePressed() {
  if (!inDrawing(mouseX, mouseY)) return;
  pen = null;
  page.strokes.user.push([{ x: mouseX, y: mouseY }]);
}

function mouseDragged() {
  const stroke = page.strokes.user[page.strokes.user.length - 1];
  if (!stroke || !inDrawing(mouseX, mouseY)) return;
  const last = stroke[stroke.length - 1];
  if (dist(last.x, last.y, mouseX, mouseY) >= 4) stroke.push({ x: mouseX, y: mouseY });
}

function mouseReleased() {
  if (!page.strokes.user.length || !page.strokes.model) return;
  sendDrawing();
}

// Public for tests: send what the user drew and ask for `n` more steps.
function sendDrawing(n = 60) {
  const rows = [];
  let previous = null;
  for (const stroke of page.strokes.user) {
    stroke.forEach((point, index) => {
      if (previous) rows.push([point.x - previous.x, point.y - previous.y, index === stroke.length - 1 ? 1 : 0]);
      previous = point;
    });
  }
  if (!rows.length) return;
  rows[rows.length - 1][2] = 0;                      // the pen is still down where the model takes over
  userStart = { x: previous.x, y: previous.y, down: true };
  pen = null;
  page.strokes.received = []; page.strokes.segments = [];
  strokeModel.reset(page.strokes.model).catch(complain);
  strokeModel.feed(rows, { model: page.strokes.model }).catch(complain);
  strokeModel.stream({ model: page.strokes.model, n, interval: 15 }).catch(complain);
}
window.rnnlabSendDrawing = sendDrawing;

// ---- p5 ------------------------------------------------------------------------------------
function setup() {
  createCanvas(2 * PANEL, HEIGHT).parent("canvas-holder");
  textFont("monospace");
  start().catch((error) => status("could not start: " + error));
}

function draw() {
  background(255);
  noStroke(); fill(246); rect(0, 0, PANEL, HEIGHT);
  drawText();
  drawNotes();
  drawStrokes();
  stroke(200); line(PANEL, 0, PANEL, HEIGHT);
}

function drawText() {
  const shown = page.text.received.slice(-1500);
  fill(20); noStroke(); textSize(14); textAlign(LEFT, TOP);
  text(shown, 12, 12, PANEL - 24, HEIGHT - NOTE_STRIP - 24);
  page.text.drawn = shown;
}

function drawNotes() {
  const notes = page.text.notes.slice(-60);
  if (!notes.length) return;
  const top = HEIGHT - NOTE_STRIP, width = (PANEL - 24) / 60;
  notes.forEach((note, i) => {
    const y = top + NOTE_STRIP - 8 - ((note.pitch - 21) / 88) * (NOTE_STRIP - 16);
    noStroke(); fill(40, 90, 200); rect(12 + i * width, y, width - 1, 4);
  });
}

function drawStrokes() {
  strokeWeight(3); stroke(0); noFill();
  for (const s of page.strokes.user) {
    beginShape(); for (const p of s) vertex(p.x, p.y); endShape();
  }
  stroke(255, 140, 0);
  for (const s of page.strokes.segments) line(s.x1, s.y1, s.x2, s.y2);
  page.strokes.drawnSegments = page.strokes.segments.length;
  strokeWeight(1);
}
