// play_model: a Processing sketch that plays a model served by `rnnlab serve` over OSC (oscP5).
// It asks for tokens 16 at a time and shows them as they arrive: as text, and for MIDI event
// tokens (Pitch_60, NOTE_ON_60, note_60 ...) as notes on a scrolling piano roll.
//
//   rnnlab serve runs/midi-events --osc-port 57120      (or any text run)
//   then run this sketch (Sketch > Import Library > oscP5 must be installed).
//
// Optional arguments, as `processing-java --run` or the tests pass them: OSC_PORT MODEL STEPS
// (STEPS > 0: print what arrived and exit after that many tokens).
import oscP5.*;
import netP5.*;

OscP5 osc;
NetAddress server;
String model = "";
int steps = 0;
int received = 0;
boolean modelChosen = false;
boolean waiting = false;
volatile boolean finished = false;                    // set on oscP5's thread, read by draw()
StringBuilder shown = new StringBuilder();
ArrayList<int[]> notes = new ArrayList<int[]>();   // {pitch, frame it arrived}

void setup() {
  size(640, 360);
  int port = 57120;
  if (args != null && args.length > 0) port = int(args[0]);
  if (args != null && args.length > 1) model = args[1];
  if (args != null && args.length > 2) steps = int(args[2]);
  osc = new OscP5(this, new OscProperties().setHost("127.0.0.1").setListeningPort(0));
  server = new NetAddress("127.0.0.1", port);
  textFont(createFont("Monospaced", 14));
}

void draw() {
  background(#161616);
  if (frameCount % 10 == 0 && !waiting && !finished) ask();   // never send in setup(): oscP5 is not ready
  fill(230);
  synchronized (this) {
    String text = shown.toString();
    text(text.substring(max(0, text.length() - 900)), 16, 16, width - 32, height - 130);
    noStroke();
    fill(#4a8cff);
    for (int[] note : notes) {
      float x = width - 16 - (frameCount - note[1]) * 2.0;
      float y = height - 16 - map(note[0], 21, 108, 0, 100);
      if (x > -40) rect(x, y, 30, 4);
    }
  }
  if (steps > 0 && frameCount > 1800) { println("TIMEOUT after " + received + " tokens"); exit(); }
}

void ask() {
  if (!modelChosen && model.length() > 0) {           // choose the model first; resend until acknowledged
    osc.send(server, "/rnnlab/model", model);
    return;
  }
  osc.send(server, "/rnnlab/generate", 16, 40);       // 16 tokens, 40 ms apart
  waiting = true;
}

void oscEvent(OscMessage m) {                         // runs on oscP5's thread
  String address = m.getAddress();
  if (address.equals("/rnnlab/ack") && m.stringValue(0).equals("model")) {
    modelChosen = true;
  } else if (address.equals("/rnnlab/output") && !finished) {
    String token = m.stringValue(1);
    synchronized (this) {
      shown.append(m.stringValue(2));
      String[] found = match(token, "(?i)(?:pitch|note_?on|note)[_:\\- ]?(\\d{1,3})");
      if (found != null) notes.add(new int[] {int(found[1]), frameCount});
      if (notes.size() > 200) notes.remove(0);
    }
    received++;
    println("token " + m.intValue(0) + " " + token);
  } else if (address.equals("/rnnlab/done")) {
    waiting = false;
    if (steps > 0 && received >= steps) {
      finished = true;                                // exit() ends the sketch after this frame: ask no more
      println("OK " + received + " tokens");
      exit();
    }
  } else if (address.equals("/rnnlab/error")) {
    println("server error: " + m.stringValue(0));
  }
}
