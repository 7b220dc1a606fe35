"""A bus message is decoded and framed once however many connections send it."""

from __future__ import annotations

import json

from swarmyard.api.shared_frames import SharedFrames


def test_the_same_message_is_made_once_per_kind() -> None:
    frames = SharedFrames()
    made: list[bytes] = []

    def decode(data: bytes) -> object:
        made.append(data)
        return json.loads(data)

    message = b'{"seq": 1}'
    copies = [frames.get("json", bytes(bytearray(message)), decode) for _ in range(100)]
    assert made == [message]  # equal bytes, even another object, are the same message
    assert all(c is copies[0] for c in copies)
    assert frames.get("other", message, lambda d: d.decode()) == '{"seq": 1}'


def test_only_the_newest_messages_are_kept() -> None:
    frames = SharedFrames(size=3)
    made: list[int] = []

    def make(data: bytes) -> int:
        made.append(int(data))
        return int(data)

    for n in range(5):
        frames.get("n", str(n).encode(), make)
    frames.get("n", b"4", make)  # still kept
    frames.get("n", b"0", make)  # evicted: made again
    assert made == [0, 1, 2, 3, 4, 0]
