// draw_strokes: draw with the mouse; when you let go, a stroke model served by `rnnlab serve`
// continues the drawing (orange), one OSC message per point it adds.
//
//   python examples/series/shapes.py shapes/ && rnnlab train shapes/ --modality series --pen-column pen --out runs/shapes
//   rnnlab serve runs/shapes --osc-port 57120, then run this sketch (needs the oscP5 library).
//
// The drawing goes to the server as stroke-3 rows (dx, dy, pen; pen 1 = the pen lifts after the
// point), all in one /rnnlab/step message; /rnnlab/generate asks for the continuation.
// Optional arguments: OSC_PORT MODEL AUTO TEMPERATURE (AUTO: draw a square itself, print what
// came back and exit, as the tests do; TEMPERATURE: the sampling temperature, default 0.5).
import oscP5.*;
import netP5.*;

OscP5 osc;
NetAddress server;
String model = "";
boolean auto = false;
float temperature = 0.5;
boolean modelChosen = false;
boolean sent = false;
boolean skipStepReply = false;       // the answer to /rnnlab/step is a guess we do not draw
ArrayList<ArrayList<PVector>> strokes = new ArrayList<ArrayList<PVector>>();   // the user's
ArrayList<float[]> added = new ArrayList<float[]>();                           // {x1, y1, x2, y2}
PVector pen = null;
boolean penDown = true;
int outputs = 0;

void setup() {
  size(480, 480);
  int port = 57120;
  if (args != null && args.length > 0) port = int(args[0]);
  if (args != null && args.length > 1) model = args[1];
  if (args != null && args.length > 2) auto = args[2].equals("AUTO");
  if (args != null && args.length > 3) temperature = float(args[3]);
  osc = new OscP5(this, new OscProperties().setHost("127.0.0.1").setListeningPort(0));
  server = new NetAddress("127.0.0.1", port);
}

void draw() {
  background(255);
  strokeWeight(3);
  stroke(0);
  noFill();
  for (ArrayList<PVector> s : strokes) {
    beginShape();
    for (PVector p : s) vertex(p.x, p.y);
    endShape();
  }
  stroke(#ff8c00);
  synchronized (this) {
    for (float[] l : added) line(l[0], l[1], l[2], l[3]);
  }
  if (frameCount % 10 == 0 && !modelChosen && model.length() > 0) osc.send(server, "/rnnlab/model", model);
  if (auto && !sent && frameCount > 20 && (modelChosen || model.length() == 0)) {
    ArrayList<PVector> square = new ArrayList<PVector>();
    for (int i = 0; i <= 16; i++) {
      float t = i / 4.0;
      int side = min(int(t), 3);
      float f = t - side;
      float[][] corners = {{180, 180}, {300, 180}, {300, 300}, {180, 300}, {180, 180}};
      square.add(new PVector(lerp(corners[side][0], corners[side + 1][0], f), lerp(corners[side][1], corners[side + 1][1], f)));
    }
    strokes.add(square);
    sendDrawing();
  }
  if (auto && frameCount > 1800) { println("TIMEOUT after " + outputs + " points"); exit(); }
}

void mousePressed() {
  ArrayList<PVector> s = new ArrayList<PVector>();
  s.add(new PVector(mouseX, mouseY));
  strokes.add(s);
}

void mouseDragged() {
  ArrayList<PVector> s = strokes.get(strokes.size() - 1);
  if (PVector.dist(s.get(s.size() - 1), new PVector(mouseX, mouseY)) >= 4) s.add(new PVector(mouseX, mouseY));
}

void mouseReleased() {
  sendDrawing();
}

void sendDrawing() {
  ArrayList<Object> rows = new ArrayList<Object>();
  PVector previous = null;
  for (ArrayList<PVector> s : strokes) {
    for (int i = 0; i < s.size(); i++) {
      PVector p = s.get(i);
      if (previous != null) {
        rows.add(p.x - previous.x);
        rows.add(p.y - previous.y);
        rows.add(i == s.size() - 1 ? 1.0 : 0.0);
      }
      previous = p;
    }
  }
  if (rows.size() == 0) return;
  rows.set(rows.size() - 1, 0.0);                     // the pen stays down where the model takes over
  synchronized (this) {
    added.clear();
    pen = previous.copy();
    penDown = true;
    skipStepReply = true;
  }
  osc.send(server, "/rnnlab/set", "temperature", temperature);
  osc.send(server, "/rnnlab/reset");
  osc.send(server, "/rnnlab/step", rows.toArray());
  osc.send(server, "/rnnlab/generate", 60, 20);        // 60 points at most, 20 ms apart
  sent = true;
}

void oscEvent(OscMessage m) {                         // runs on oscP5's thread
  String address = m.getAddress();
  if (address.equals("/rnnlab/ack") && m.stringValue(0).equals("model")) {
    modelChosen = true;
  } else if (address.equals("/rnnlab/output") && sent && m.getTypetag().equals("ffs")) {
    String state = m.stringValue(2);
    synchronized (this) {
      if (skipStepReply) {
        skipStepReply = false;
        return;
      }
      if (pen != null && !state.equals("end")) {
        PVector next = new PVector(pen.x + m.floatValue(0), pen.y + m.floatValue(1));
        if (penDown) added.add(new float[] {pen.x, pen.y, next.x, next.y});
        pen = next;
        penDown = state.equals("down");
      }
    }
    outputs++;
  } else if (address.equals("/rnnlab/done")) {
    println("OK " + outputs + " outputs, " + added.size() + " segments drawn");
    if (auto) exit();
  } else if (address.equals("/rnnlab/error")) {
    println("server error: " + m.stringValue(0));
  }
}
