#!/usr/bin/env bash
# The GPU check: the device tests, a smoke of training, evaluating and sampling on the GPU, then the
# figures docs/guides/gpu.md waits for (PTB zaremba-medium perplexity and minutes, words/s against a
# plain PyTorch loop at batch 20 and 128, awd-lstm minutes per epoch, serving latency). About 8 minutes
# on an H200. Everything goes to a log file.
#
#   RNNLAB_DATA=DATA bash benchmarks/gpu_check.sh            # on a GPU machine
#   SMOKE=1 RNNLAB_DATA=DATA bash benchmarks/gpu_check.sh    # on a CPU, tiny sizes: checks the commands run
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
RNNLAB="$PY -m rnnlab"
WORK=${WORK:-$(mktemp -d)}
LOG=${LOG:-gpu_check.log}
if [[ "${SMOKE:-0}" == 1 ]]; then
  PRESET_SIZE=(--hidden 32 --embed 32 --eval-batch-size 80); DEVICE=cpu; EPOCHS=1; MINUTES=0.1; STEPS=5; HIDDEN=(--hidden 32 --embed 32); BATCHES=(4); SPEED_HIDDEN=32
else
  PRESET_SIZE=(); DEVICE=cuda; EPOCHS=39; MINUTES=0; STEPS=300; HIDDEN=(); BATCHES=(20 128); SPEED_HIDDEN=650
fi
exec > >(tee -a "$LOG") 2>&1
stamp() { echo "== $(date +%H:%M:%S) $*"; }
stamp "rnnlab GPU check on $DEVICE; work folder $WORK"
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')"

stamp "device tests (the cuda variants must run, none skipped)"
[[ "${SMOKE:-0}" == 1 ]] || $PY -m pytest -p no:cacheprovider -q -rs tests/train/test_on_device.py tests/test_on_device_use.py tests/train/test_precision.py tests/models/test_regularize.py || true

stamp "smoke: train, evaluate, generate on $DEVICE (fp32, auto precision, --compile)"
$RNNLAB train tinyshakespeare --level char "${HIDDEN[@]}" --layers 1 --epochs 1 --max-minutes 0.2 --device "$DEVICE" --out "$WORK/chars"
$RNNLAB train tinyshakespeare --level char "${HIDDEN[@]}" --layers 1 --epochs 1 --max-minutes 0.2 --device "$DEVICE" --precision auto --compile --out "$WORK/chars-auto"
head -c 400 "$WORK/chars-auto/metrics.jsonl"; echo
$RNNLAB evaluate "$WORK/chars" --device "$DEVICE"
$RNNLAB generate "$WORK/chars" --prime "ROMEO:" --length 60 --device "$DEVICE"

stamp "serve: one client's step p50 and steps/s with 64 clients"
$PY - "$WORK/chars" "$DEVICE" <<'PYEOF'
import asyncio, statistics, sys, time
from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.sessions import ServeSettings

hub = Hub(load_models([sys.argv[1]], device=sys.argv[2]), ServeSettings(max_batch=64, max_sessions=128))

async def client(steps, times):
    session = hub.sessions.create()
    session.configure({"greedy": True})
    out = await hub.step(session, None, "the ")
    for _ in range(steps):
        began = time.perf_counter()
        out = await hub.step(session, None, [out["id"]])
        times.append(time.perf_counter() - began)

async def main():
    alone = []
    await client(200, alone)
    together, began = [], time.perf_counter()
    await asyncio.gather(*(client(100, together) for _ in range(64)))   # every client steps 100 times
    print(f"serve: one client p50 {statistics.median(alone) * 1e3:.2f} ms/step; 64 clients "
          f"{len(together) / (time.perf_counter() - began):,.0f} steps/s")

try:
    asyncio.run(main())
finally:
    hub.close()
PYEOF

stamp "PTB zaremba-medium, $EPOCHS epochs (goal: test perplexity at most 82.7, under 5 minutes)"
began=$(date +%s)
$RNNLAB train ptb --preset zaremba-medium "${PRESET_SIZE[@]}" --epochs "$EPOCHS" ${MINUTES:+$( [[ $MINUTES != 0 ]] && echo --max-minutes $MINUTES )} --device "$DEVICE" --out "$WORK/medium"
echo "zaremba-medium: $(( ($(date +%s) - began) / 60 )) min $(( ($(date +%s) - began) % 60 )) s"
$RNNLAB evaluate "$WORK/medium" --split test --device "$DEVICE"

stamp "words/s: rnnlab against a plain PyTorch loop, same model, same GPU (goal: 1.2x)"
for batch in "${BATCHES[@]}"; do
  $PY benchmarks/train_speed.py --device "$DEVICE" --batch "$batch" --hidden "$SPEED_HIDDEN" --steps "$STEPS" --repeats 2 --no-bf16 --compile
done

stamp "awd-lstm: minutes for one epoch"
began=$(date +%s)
$RNNLAB train ptb --preset awd-lstm "${PRESET_SIZE[@]}" --epochs 1 ${MINUTES:+$( [[ $MINUTES != 0 ]] && echo --max-minutes $MINUTES )} --device "$DEVICE" --out "$WORK/awd"
echo "awd-lstm: one epoch in $(( $(date +%s) - began )) s"
stamp "done; log in $LOG"
