"""A worker's slots: shares while there is room, eager roles first when scarce."""

from __future__ import annotations

import asyncio

import pytest

from swarmyard.runtime.slots import FETCH_WAIT, MAX_BATCH, SHARED_WAIT, Slots


async def test_with_room_to_spare_each_loop_takes_a_share_and_long_polls() -> None:
    slots = Slots(200, lambda: 13)
    assert await slots.take() == (15, FETCH_WAIT)
    assert await slots.take() == (14, FETCH_WAIT)
    assert slots.used == 29
    slots.give_back(29)
    assert (slots.used, slots.free) == (0, 200)
    assert (await Slots(10_000, lambda: 1).take())[0] == MAX_BATCH


async def test_scarce_slots_go_to_eager_loops_first_then_in_order() -> None:
    slots = Slots(1, lambda: 3)
    assert await slots.take() == (1, SHARED_WAIT)  # fewer slots than loops: a short turn
    idle = asyncio.create_task(slots.take())
    eager = asyncio.create_task(slots.take(eager=True))
    later = asyncio.create_task(slots.take())
    await asyncio.sleep(0)  # let all three queue
    assert slots.waiting == 3

    slots.give_back(1)
    assert await eager == (1, SHARED_WAIT)  # others still wait: pass it on soon
    assert not idle.done()
    slots.give_back(1)
    assert await idle == (1, SHARED_WAIT)
    slots.give_back(1)
    assert await later == (1, FETCH_WAIT)  # nobody left waiting
    assert slots.used == 1


async def test_closing_wakes_every_waiting_loop_with_nothing() -> None:
    slots = Slots(1, lambda: 2)
    await slots.take()
    waiting = [asyncio.create_task(slots.take(eager=e)) for e in (True, False)]
    await asyncio.sleep(0)
    slots.close()
    assert await asyncio.gather(*waiting) == [(0, 0.0), (0, 0.0)]
    assert await slots.take() == (0, 0.0)


async def test_a_cancelled_waiter_leaves_no_slot_behind() -> None:
    slots = Slots(1, lambda: 2)
    await slots.take()
    gone = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert slots.waiting == 0
    slots.give_back(1)
    assert slots.free == 1  # not handed to the cancelled waiter


def test_a_worker_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="capacity"):
        Slots(0, lambda: 1)
