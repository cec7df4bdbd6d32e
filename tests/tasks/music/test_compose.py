"""Composition details: the cut at the requested length, the first frames of a piano roll, the tempo."""

from __future__ import annotations

import symusic

from rnnlab.tasks.music.compose import Length, clip_to


def test_notes_running_past_the_end_are_shortened_not_dropped():
    score = symusic.Score(500)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track("piano", 0, False)
    track.notes.append(symusic.Note(0, 9000, 60, 80))        # held far past the end (1000 ticks a second)
    track.notes.append(symusic.Note(1000, 500, 64, 80))
    track.notes.append(symusic.Note(5000, 500, 67, 80))      # starts after the end
    score.tracks.append(track)
    clipped = clip_to(score, 0.0, 0.0, Length(seconds=4))
    assert sorted((n.start, n.end, n.pitch) for n in clipped.tracks[0].notes) == [(0, 4000, 60), (1000, 1500, 64)]
