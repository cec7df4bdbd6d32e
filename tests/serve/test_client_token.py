"""The browser client /rnnlab.js in Node with a stand-in WebSocket: a URL's ?token= is kept when it
reconnects, a page served at /?token= passes its token on, and a refusal (1008) says why."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import rnnlab.serve

NODE = shutil.which("node")
CLIENT = Path(rnnlab.serve.__file__).with_name("static") / "rnnlab.js"
SCRIPT = """
const opened = [];
class FakeSocket {
  constructor(url) { this.url = url; this.readyState = 0; opened.push(this);
    setTimeout(() => { this.readyState = 1; this.onmessage({ data: JSON.stringify(
      { type: "hello", session: "s", models: ["chars"], default: "chars" }) }); }, 0); }
  send() {}
  close() {}
}
globalThis.WebSocket = FakeSocket;
globalThis.location = { protocol: "http:", host: "stage.local:8765", search: "?x=1&token=abc_123" };
const rnnlab = require(%s);
(async () => {
  const fromPage = await rnnlab.connect({ minDelay: 1, maxDelay: 2 });
  const given = await rnnlab.connect("ws://10.0.0.5:8765/ws?token=given-token", { minDelay: 1, maxDelay: 2 });
  opened[1].onclose({ code: 1006, reason: "" });                        // dropped: it reconnects
  await new Promise((resolve) => setTimeout(resolve, 50));
  let refusal = null;
  fromPage.on("error", (error) => { refusal = error.message; });
  opened[0].onclose({ code: 1008, reason: "this server needs its token: /ws?token=..." });
  console.log(JSON.stringify({ urls: opened.map((s) => s.url), refusal }));
})();
"""


@pytest.mark.skipif(NODE is None, reason="needs node")
def test_the_token_is_kept_and_passed_on(tmp_path):
    script = tmp_path / "client.js"
    script.write_text(SCRIPT % json.dumps(str(CLIENT)))
    result = json.loads(subprocess.run([NODE, str(script)], capture_output=True, text=True, check=True,
                                       timeout=60).stdout)
    assert result["urls"] == ["ws://stage.local:8765/ws?token=abc_123", "ws://10.0.0.5:8765/ws?token=given-token",
                              "ws://10.0.0.5:8765/ws?token=given-token"]
    assert "needs its token" in result["refusal"]
