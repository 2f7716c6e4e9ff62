"""The class modules' small parts on their own: codes, tokens, wrong-code counting, thinning."""

from __future__ import annotations

import asyncio

from app.classes import attempts
from app.classes.board import Thinned, scatter_params, stride_for
from app.classes.tokens import (
    CODE,
    CODE_ALPHABET,
    new_code,
    split_student_token,
    student_token,
    token_hash,
    token_matches,
)
from tests.support.demos import DEMO as COUNTER


def test_codes_have_no_letters_that_look_alike() -> None:
    assert not set("ILO01") & set(CODE_ALPHABET) and len(set(CODE_ALPHABET)) == 23
    codes = {new_code() for _ in range(200)}
    assert all(CODE.fullmatch(c) for c in codes) and len(codes) > 190


def test_a_student_token_names_its_class_and_only_its_hash_is_kept() -> None:
    token = student_token("ABCDEF", "s3cret")
    assert split_student_token(token) == ("ABCDEF", "s3cret")
    assert split_student_token("ABCDEI.s3cret") is None  # I is not in a code
    assert split_student_token("ABCDEF.") is None and split_student_token("nodot") is None
    assert token_matches("s3cret", token_hash("s3cret")) and not token_matches("s3creT", token_hash("s3cret"))


def test_wrong_codes_lock_an_address_for_the_window_and_no_other(monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(attempts.time, "monotonic", lambda: now[0])
    wrong = attempts.WrongCodes(most=3, window=60)
    for _ in range(3):
        assert asyncio.run(wrong.retry_after("10.0.0.1")) == 0
        asyncio.run(wrong.wrong("10.0.0.1"))
    assert asyncio.run(wrong.retry_after("10.0.0.1")) == 61 and asyncio.run(wrong.retry_after("10.0.0.2")) == 0
    now[0] += 61
    assert asyncio.run(wrong.retry_after("10.0.0.1")) == 0  # the window passed


def test_thinning_keeps_one_point_a_stride_and_the_last() -> None:
    assert stride_for({"steps": 2000}) == 10 and stride_for({"steps": 150}) == 1 and stride_for({}) == 1
    thinned = Thinned(stride=10)
    kept = [thinned.take({"step": s, "loss": 1 / (s + 1)}) for s in range(25)]
    assert [k[0] for k in kept if k] == [0, 10, 20]
    assert thinned.take({"step": 25, "loss": None}) is None  # no loss: nothing to draw
    assert thinned.closing() == [24, 1 / 25] and thinned.closing() is None


def test_the_scatter_offers_the_numeric_params() -> None:
    assert scatter_params(COUNTER) == ["steps", "lr", "pace", "block_at", "spin_ms", "fail_at", "pad"]


def test_closing_the_class_store_waits_for_a_read_in_flight(tmp_path) -> None:
    """Closing the connection under a reading thread crashed CI's pytest with a segfault at an app's shutdown;
    now a close waits its turn, and a read after it is refused by name."""
    from app.classes.records import ClassRun
    from app.classes.sqlite_store import SqliteClassStore

    async def scenario() -> list[object]:
        store = SqliteClassStore(tmp_path / "classes.sqlite")
        await store.open()
        for i in range(2_000):
            await store.add_run("ABCDEF", ClassRun(f"r{i}", "s1", "counter", float(i)))
        reads = [asyncio.ensure_future(store.runs("ABCDEF")) for _ in range(8)]
        await asyncio.sleep(0)
        await store.close()
        return await asyncio.gather(*reads, return_exceptions=True)

    for outcome in asyncio.run(scenario()):
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, RuntimeError) and "not open" in str(outcome), repr(outcome)
        else:
            assert len(outcome) == 2_000
