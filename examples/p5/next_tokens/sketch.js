// The next tokens: every key typed goes to a token model through /rnnlab.js; the ten likeliest next
// tokens come back as bars, and 32 units of the model's state as a row of cells. If the server
// restarts, the client reconnects on its own and the named session "next-tokens" comes back with it.
const SERVER = window.RNNLAB_SERVER || "ws://127.0.0.1:8765/ws";
let model = null, typed = "", last = null, status = "connecting…";
window.nextTokens = { outputs: 0 };       // for a test to read

function setup() {
  createCanvas(640, 360);
  textFont("monospace");
  rnnlab.connect(SERVER).then(async (connected) => {
    model = connected;
    model.on("reconnecting", () => (status = "reconnecting…"));
    model.on("open", () => (status = "connected"));
    await model.session("next-tokens");             // a reload finds the state it left
    await model.set({ temperature: 0.8 });
    status = "connected";
  }).catch((error) => (status = "could not connect: " + error.message));
}

function keyTyped() {
  if (!model) return;
  typed = (typed + key).slice(-60);
  model.predict(key, { top: 10, state: 32 })
    .then((output) => { last = output; window.nextTokens.outputs += 1; })
    .catch((error) => (status = error.message));
}

function draw() {
  background(250);
  fill(30); noStroke(); textSize(16); textAlign(LEFT, TOP);
  text(typed + "▌", 16, 16);
  textSize(12); fill(120); text(status, 16, 340);
  if (!last) return;
  last.candidates.forEach((c, i) => {                // bars: probability of each likely next token
    const y = 60 + i * 24;
    fill(40, 90, 200); rect(120, y, c.p * 400, 18);
    fill(30); textAlign(RIGHT, TOP); text(JSON.stringify(c.token), 110, y + 2);
  });
  last.state.forEach((v, i) => {                      // cells: the top layer's first 32 hidden units
    fill(128 + 127 * v, 128, 128 - 127 * v); rect(16 + i * 19, 310, 17, 17);
  });
}
