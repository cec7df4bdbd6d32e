"""`rnnlab respond` (one context, a few responses) and `rnnlab chat` (a conversation on standard input)."""

from __future__ import annotations

import sys

from rnnlab.commands import add_device_flags
from rnnlab.errors import RnnlabError
from rnnlab.generate.sampling import add_sampling_flags
from rnnlab.tasks.dialogue.task import DialogueTask


def add_response_flags(p) -> None:
    p.add_argument("run")
    add_sampling_flags(p, ("temperature", "top_k", "greedy", "seed"), temperature=0.8, top_k=20)
    add_device_flags(p, "cpu")


def add_respond_arguments(p) -> None:
    add_response_flags(p)
    p.add_argument("--context", action="append", default=[], help="an utterance of context; repeat, oldest first")
    p.add_argument("--samples", type=int, default=1, help="responses to sample")


def cmd_respond(args) -> int:
    if not args.context:
        raise RnnlabError("respond needs at least one --context UTTERANCE (oldest first)")
    chat = DialogueTask().load(args.run, "best", args.device, args.threads)
    replies = chat.respond(args.context, args.samples, args.temperature, args.top_k, args.greedy, args.seed)
    for line in [replies] if isinstance(replies, str) else replies:
        print(line)
    return 0


def cmd_chat(args) -> int:
    """Read one utterance per line; answer each, keeping the conversation as context."""
    chat = DialogueTask().load(args.run, "best", args.device, args.threads)
    history: list[str] = []
    print("(one utterance per line; end with Ctrl-D)", file=sys.stderr)
    for line in sys.stdin:
        if not line.strip():
            continue
        history.append(line.strip())
        reply = chat.respond(history, 1, args.temperature, args.top_k, args.greedy, args.seed)
        history.append(reply)
        print(reply, flush=True)
    return 0
