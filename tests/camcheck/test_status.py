"""Pure status decisions and parsers: no network."""

from datetime import UTC, datetime, timedelta

import pytest

from govportal.lib.camcheck import (
    DOWN,
    UNKNOWN,
    UP,
    StatusEvent,
    frozen,
    group_by_host_outage,
    next_state,
    schedule_offsets,
)
from govportal.lib.camcheck.frames import FirstFrameFinder
from govportal.lib.camcheck.hls import parse_playlist
from govportal.lib.errors import SourceError
from tests.camcheck import jpeg_bytes, mjpeg_part

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SAME = "ahash16:" + "f0" * 32
ONE_BIT_OFF = "ahash16:" + "f0" * 31 + "f1"
OTHER = "ahash16:" + "0f" * 32


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_frozen_same_fingerprint_long_enough():
    history = [(at(0), SAME), (at(5), ONE_BIT_OFF), (at(10), SAME)]
    assert frozen(history, at(10), timedelta(minutes=10))
    assert not frozen(history, at(10), timedelta(minutes=11))


def test_frozen_run_broken_by_other_frame():
    history = [(at(0), SAME), (at(5), OTHER), (at(10), SAME)]
    assert not frozen(history, at(10), 600.0)


def test_frozen_skips_failed_checks():
    history = [(at(0), SAME), (at(5), None), (at(10), SAME)]
    assert frozen(history, at(10), 600.0)


def test_frozen_needs_two_frames():
    assert not frozen([(at(0), SAME)], at(60), 60.0)
    assert not frozen([], at(60), 60.0)


def test_next_state_single_glitch_changes_nothing():
    assert next_state(UP, [True, True, False]) == (UP, False)
    assert next_state(UP, [True, False, True, True, False]) == (UP, False)


def test_next_state_down_after_three_failures():
    assert next_state(UP, [True, False, False, False]) == (DOWN, True)


def test_next_state_up_after_two_good():
    assert next_state(DOWN, [False, True]) == (DOWN, False)
    assert next_state(DOWN, [False, True, True]) == (UP, True)


def test_next_state_unknown_camera():
    assert next_state(UNKNOWN, [True]) == (UNKNOWN, False)
    assert next_state(UNKNOWN, [True, True]) == (UP, True)
    assert next_state(UNKNOWN, [False, False, False]) == (DOWN, True)


def test_next_state_flapping_stays_down_one_event():
    state = UP
    history: list[bool] = []
    events = []
    for index in range(40):
        history.append(index % 2 == 1)
        state, changed = next_state(state, history[-10:])
        if changed:
            events.append((index, state))
    assert state == DOWN
    assert events == [(4, DOWN)]


def test_next_state_accepts_results_with_ok():
    class Result:
        def __init__(self, ok: bool) -> None:
            self.ok = ok

    assert next_state(UP, [Result(False)] * 3) == (DOWN, True)


def test_next_state_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown camera state"):
        next_state("sideways", [])
    with pytest.raises(ValueError, match="at least 1"):
        next_state(UP, [], down_after=0)


def test_group_by_host_outage():
    events = [
        StatusEvent("cam-1", "cams.a.gov.tw", DOWN),
        StatusEvent("cam-2", "CAMS.A.GOV.TW", DOWN),
        StatusEvent("cam-3", "cams.a.gov.tw", DOWN),
        StatusEvent("cam-4", "cams.b.gov.tw", DOWN),
        StatusEvent("cam-5", "cams.a.gov.tw", UP),
    ]
    incidents = group_by_host_outage(events)
    assert len(incidents) == 3
    host_a = incidents[0]
    assert (host_a.host, host_a.state) == ("cams.a.gov.tw", DOWN)
    assert host_a.camera_ids == ("cam-1", "cam-2", "cam-3")
    assert host_a.host_outage
    assert incidents[1].camera_ids == ("cam-4",)
    assert not incidents[1].host_outage
    assert incidents[2].state == UP


def test_schedule_offsets_even_and_deterministic():
    ids = [f"cam-{number}" for number in range(100)]
    offsets = schedule_offsets(ids, 60.0)
    again = schedule_offsets(reversed(ids), 60.0)
    assert offsets == again
    assert sorted(offsets.values()) == pytest.approx([i * 0.6 for i in range(100)])


def test_schedule_offsets_empty_and_invalid():
    assert schedule_offsets([], 60.0) == {}
    with pytest.raises(ValueError, match="positive"):
        schedule_offsets(["cam-1"], 0)


def test_frame_finder_split_across_pieces():
    frame = jpeg_bytes(20)
    body = mjpeg_part(frame)
    finder = FirstFrameFinder(max_pixels=10**7)
    found = None
    for start in range(0, len(body), 7):
        found = finder.feed(body[start : start + 7])
        if found is not None:
            break
    assert found is not None
    assert found[0] == frame


def test_frame_finder_rejects_garbage_frames():
    finder = FirstFrameFinder(max_pixels=10**7, max_candidates=2)
    with pytest.raises(SourceError) as caught:
        finder.feed(b"\xff\xd8\xff\x00junk\xff\xd9more\xff\xd9")
    assert caught.value.code == "not_an_image"


def test_parse_playlist_tags_and_uris():
    text = (
        "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:42\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example/k1"\n'
        '#EXT-X-MAP:URI="init.mp4"\n'
        "#EXTINF:4,\nseg42.ts\n#EXTINF:4,\nseg43.ts\n#EXT-X-ENDLIST\n"
    )
    playlist = parse_playlist(text)
    assert playlist.media_sequence == 42
    assert playlist.segments == ["seg42.ts", "seg43.ts"]
    assert playlist.attribute_uris == ["https://keys.example/k1", "init.mp4"]
    assert playlist.ended
    assert not playlist.is_master


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a playlist",
        "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-1\n#EXTINF:4,\na.ts\n",
        "#EXTM3U\nstray.ts\n",
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXTINF:4,\na.ts\n",
    ],
)
def test_parse_playlist_invalid(text):
    with pytest.raises(SourceError) as caught:
        parse_playlist(text)
    assert caught.value.code == "playlist_invalid"
