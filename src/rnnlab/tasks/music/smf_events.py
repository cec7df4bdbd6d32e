"""`smf-events`: the seed's scheme. Each note event of one track becomes a word DELTA_STATUS_DATA.

DELTA is the event's delta time written as the file writes it (a variable-length quantity, in
hex), STATUS the status byte (9n note on, 8n note off) and DATA the two data bytes, as the seed
did with b2a_hex: `00_90_3c64`. The track is the one with most notes. So that files of any
resolution and tempo share one vocabulary, deltas are counted in ticks of 480 per quarter
at 120 bpm (1/960 s); a file already at that resolution and tempo gives its own bytes back.
MIDI is read and written by mido (running status, sysex and meta events handled there).
"""

from __future__ import annotations

import bisect
import io
from pathlib import Path

from rnnlab.tasks.music.midi import MidiTokenizer, Piece
from rnnlab.errors import RnnlabError

TICKS_PER_BEAT = 480
TEMPO = 500_000                                   # microseconds per quarter: 120 bpm
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 / TEMPO


def _mido():
    try:
        import mido
    except ImportError:
        raise RnnlabError("--tokenizer smf-events needs mido: pip install 'rnnlab[music]'") from None
    return mido


def vlq_hex(value: int) -> str:
    """A delta time as the SMF variable-length quantity, in hex: 0 -> '00', 200 -> '8148'."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups)).hex()


def parse_vlq_hex(text: str) -> int:
    data = bytes.fromhex(text)
    if not data or any(b & 0x80 for b in data[-1:]) or any(not b & 0x80 for b in data[:-1]):
        raise ValueError(text)
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
    return value


class TempoMap:
    """Absolute tick -> seconds, from a file's set_tempo events (type 0/1: they hold for all tracks)."""

    def __init__(self, midi_file):
        changes = {0: TEMPO}
        for track in midi_file.tracks:
            tick = 0
            for message in track:
                tick += message.time
                if message.type == "set_tempo":
                    changes[tick] = message.tempo
        self.ticks = sorted(changes)
        self.tempos = [changes[t] for t in self.ticks]
        self.resolution = midi_file.ticks_per_beat
        self.starts = [0.0]
        for i in range(1, len(self.ticks)):
            span = self.ticks[i] - self.ticks[i - 1]
            self.starts.append(self.starts[-1] + span * self.tempos[i - 1] / 1e6 / self.resolution)

    def seconds(self, tick: int) -> float:
        i = bisect.bisect_right(self.ticks, tick) - 1
        return self.starts[i] + (tick - self.ticks[i]) * self.tempos[i] / 1e6 / self.resolution


SUSTAIN = 64                                      # the sustain pedal's controller number


def sustained_note_events(midi_file, track) -> list[tuple[int, object]]:
    """(absolute tick, note message) of `track`'s note events with the sustain pedal (CC64, from any
    track, per channel) written in: a note released while its channel's pedal is down is released
    when the pedal is lifted, or just before the same pitch is struck again. Other events (meta,
    sysex, controllers) are left out; their time passes into the next note's delta."""
    timeline = []                                 # (tick, 0 for pedal / 1 for notes, order, message)
    for number, each in enumerate(midi_file.tracks):
        tick = 0
        for order, message in enumerate(each):
            tick += message.time
            if each is track and message.type in ("note_on", "note_off"):
                timeline.append((tick, 1, order, message))
            elif message.type == "control_change" and message.control == SUSTAIN:
                timeline.append((tick, 0, number * 1_000_000 + order, message))
    timeline.sort(key=lambda e: e[:3])
    down: dict[int, bool] = {}
    held: dict[tuple[int, int], object] = {}      # (channel, pitch) -> its note-off, waiting for the pedal
    out, tick = [], 0
    for tick, _, _, message in timeline:
        if message.type == "control_change":
            down[message.channel] = message.value >= 64
            if not down[message.channel]:
                for key in sorted(k for k in held if k[0] == message.channel):
                    out.append((tick, held.pop(key)))
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            if key in held:
                out.append((tick, held.pop(key)))          # struck again: the held note ends first
            out.append((tick, message))
        elif down.get(message.channel):
            held[key] = message
        else:
            out.append((tick, message))
    out.extend((tick, held[key]) for key in sorted(held))
    return out


def playable_note_events(events, mido) -> list[tuple[int, object]]:
    """(absolute tick, note message) as the decoder writes them, from any such list: one pitch sounds
    at most once per channel. A note-on of a sounding pitch first ends the sounding note (a note-off
    at that tick), or is dropped when that note began at this very tick; a note-off of a silent pitch
    is dropped. The encoder and the decoder both pass their events through here, so tokens -> MIDI
    -> tokens is the identity even for files that strike a sounding pitch again."""
    sounding: dict[tuple[int, int], int] = {}        # (channel, pitch) -> tick it began
    out = []
    for tick, message in events:
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            if sounding.get(key) == tick:
                continue                         # the pitch was struck at this very tick: one note, not two
            if key in sounding:                  # struck again while sounding: the old note ends first
                out.append((tick, mido.Message("note_off", channel=key[0], note=key[1], velocity=0)))
            sounding[key] = tick
        elif key in sounding:
            del sounding[key]
        else:
            continue                             # a note-off of a silent pitch
        out.append((tick, message))
    return out


class SmfEventsTokenizer(MidiTokenizer):
    name = "smf-events"
    transposable = False

    def __init__(self, settings: dict | None = None, run_folder: Path | None = None):
        self.mido = _mido()

    def encode(self, piece: Piece) -> list[str]:
        try:
            midi_file = self.mido.MidiFile(file=io.BytesIO(piece.to_midi()))
        except (OSError, EOFError, ValueError, KeyError, IndexError) as err:
            reason = str(err).strip() or ("it ends before its last track does" if isinstance(err, EOFError)
                                          else type(err).__name__)
            raise RnnlabError(f"{piece.label}: mido cannot read it ({reason})") from None
        track = max(midi_file.tracks, key=lambda t: sum(m.type == "note_on" for m in t), default=None)
        if track is None:
            return []
        tempo_map = TempoMap(midi_file)
        timed = [(round(tempo_map.seconds(tick) * TICKS_PER_SECOND), message)
                 for tick, message in sustained_note_events(midi_file, track)]
        words, last = [], 0
        for at, message in playable_note_events(timed, self.mido):
            status, *data = message.bytes()
            words.append(f"{vlq_hex(at - last)}_{status:02x}_{bytes(data).hex()}")
            last = at
        return words

    def decode_midi(self, tokens: list[str]) -> bytes:
        mido = self.mido
        track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=TEMPO, time=0)])
        events, tick = [], 0
        for word in tokens:
            event = self.parse_word(word)
            if event is not None:                # specials and malformed words are skipped
                tick += event[0]
                events.append((tick, event[1]))
        now = 0
        for at, message in playable_note_events(events, mido):
            track.append(message.copy(time=at - now))
            now = at
        pending = tick - now
        track.append(mido.MetaMessage("end_of_track", time=pending))
        out = io.BytesIO()
        mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT, tracks=[track]).save(file=out)
        return out.getvalue()

    def parse_word(self, word: str):
        """(delta, mido.Message) for a word; None for specials and malformed words."""
        parts = word.split("_")
        if len(parts) != 3:
            return None
        try:
            delta = parse_vlq_hex(parts[0])
            raw = bytes.fromhex(parts[1] + parts[2])
            if len(raw) != 3 or raw[0] >> 4 not in (0x8, 0x9):
                return None
            return delta, self.mido.Message.from_bytes(raw)
        except ValueError:
            return None

    def is_event(self, token: str) -> bool:
        return self.parse_word(token) is not None

    def note_pitch(self, token: str) -> int | None:
        event = self.parse_word(token)
        if event is None or event[1].type != "note_on" or event[1].velocity == 0:
            return None                       # a note-on with velocity 0 ends a note
        return event[1].note
