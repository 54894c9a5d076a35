"""The collector's settings for a settled server (isolate_worker/heap.py)."""

from __future__ import annotations

import gc

from isoflow.isolate_worker import heap


def test_settle_freezes_start_up_and_raises_the_thresholds_thaw_releases() -> None:
    before = gc.get_threshold()
    try:
        made_at_start_up = [[]]  # a container the collector tracks
        heap.settle()
        assert gc.get_threshold() == heap.THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert not any(o is made_at_start_up for o in gc.get_objects())  # frozen: not walked
        heap.thaw()
        assert gc.get_freeze_count() == 0
        assert any(o is made_at_start_up for o in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
