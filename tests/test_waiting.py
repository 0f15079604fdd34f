"""The one poll-until loop behind the idempotency wait, the owner lock, the status poll and the connector list."""

from __future__ import annotations

import time

from state.waiting import wait_until


def test_it_asks_again_until_there_is_an_answer():
    answers = iter([None, None, "ready"])
    assert wait_until(lambda: next(answers), None, 0.001) == "ready"


def test_it_gives_up_rather_than_sleep_past_the_deadline():
    asked = []
    started = time.monotonic()
    assert wait_until(lambda: asked.append(1), started + 0.2, 0.5) is None
    assert asked == [1] and time.monotonic() - started < 0.2


def test_a_false_or_empty_answer_is_still_an_answer():
    assert wait_until(lambda: [], None, 0.001) == [] and wait_until(lambda: 0.0, None, 0.001) == 0.0
