"""The packer (supervisor/packing.py): how many slots take new requests, sample by sample."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from isoflow.supervisor import packing
from isoflow.supervisor.packing import COOL, HOT, SHRINK_AFTER, Packer, supported, thread_cpu
from isoflow.supervisor.pool import WorkerPool
from isoflow.supervisor.settings import DEFAULT_SCRIPT, Settings
from isoflow.supervisor.workers import LocalWorker


def test_it_starts_with_one_slot_and_brings_the_next_in_when_every_one_in_use_is_hot():
    packer = Packer(3)
    assert packer.in_use == 1
    packer.update([HOT - 0.01])
    assert packer.in_use == 1
    packer.update([HOT])
    assert packer.in_use == 2
    packer.update([HOT, None])  # the new slot's first reading is not known yet: wait
    assert packer.in_use == 2
    packer.update([1.0, HOT - 0.01])  # one stuck worker, its neighbour keeps up
    assert packer.in_use == 2
    packer.update([1.0, 0.9])
    packer.update([1.0, 0.9, 0.95])
    assert packer.in_use == 3  # never more than the slots


def test_it_leaves_the_last_slot_out_once_the_rest_would_keep_up_for_a_while():
    packer = Packer(3)
    packer.update([0.9])
    packer.update([0.9, 0.9])
    assert packer.in_use == 3
    fits = COOL * 2  # three in use whose load two would carry at COOL each
    for _ in range(SHRINK_AFTER - 1):
        packer.update([fits / 3] * 3)
    assert packer.in_use == 3
    packer.update([0.4, 0.6, 0.2])  # too much for two: the count starts again
    for _ in range(SHRINK_AFTER - 1):
        packer.update([fits / 3] * 3)
    assert packer.in_use == 3
    packer.update([fits / 3] * 3)
    assert packer.in_use == 2
    for _ in range(SHRINK_AFTER):
        packer.update([0.0, 0.0])
    assert packer.in_use == 1
    for _ in range(SHRINK_AFTER):
        packer.update([0.0])
    assert packer.in_use == 1  # never fewer than one


def test_a_stuck_worker_and_a_busy_neighbour_do_not_shrink():
    packer = Packer(2)
    packer.update([1.0])
    for _ in range(SHRINK_AFTER * 2):
        packer.update([1.0, 0.1])  # the stuck one's share counts: two do not fit in one
    assert packer.in_use == 2


def test_cpu_time_is_read_from_the_kernel_per_thread():
    child = subprocess.Popen([sys.executable, "-c",
                              "import time\nt = time.process_time()\n"
                              "while time.process_time() - t < 0.3: pass"])
    try:
        first = thread_cpu(child.pid)
        time.sleep(0.1)
        second = thread_cpu(child.pid)
        assert first is not None and second is not None
        assert list(second) == [str(child.pid)]  # one thread: the main one
        assert second[str(child.pid)] > first[str(child.pid)]
        child.wait(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert thread_cpu(child.pid) is None  # gone (reaped)
    assert supported()
    mine = thread_cpu(os.getpid())
    assert mine is not None and str(threading.get_native_id()) in mine


def test_a_sample_takes_the_busiest_thread_of_each_worker(monkeypatch):
    threads = {10: {"10": 0, "12": 0}, 11: {"11": 0}}
    monkeypatch.setattr(packing, "thread_cpu", lambda pid: dict(threads[pid])
                        if pid in threads else None)
    packer = Packer(3)
    packer.sample([10], now=1.0)  # a first reading: nothing to compare with
    assert packer.in_use == 1
    threads[10] = {"10": 30_000_000, "12": 30_000_000}  # 0.6 of a core in all, 0.3 each
    packer.sample([10], now=1.1)
    assert packer.in_use == 1
    threads[10] = {"10": 30_000_000, "12": 90_000_000, "13": 0}  # one thread at 0.6; a new one
    packer.sample([10], now=1.2)
    assert packer.in_use == 2
    threads[10]["12"] += 60_000_000
    packer.sample([10, 11], now=1.3)  # 11 is new: not known yet
    assert packer.in_use == 2
    threads[10]["12"] += 60_000_000
    threads[11]["11"] += 70_000_000
    packer.sample([10, 11], now=1.4)
    assert packer.in_use == 3
    del threads[11]  # its process is gone
    threads[10]["12"] += 60_000_000
    packer.sample([10, 11, None], now=1.5)
    assert packer.in_use == 3


def _pool(workers: int, pack: bool = True) -> tuple[WorkerPool, list[LocalWorker]]:
    settings = Settings.single_script(Path("worker.js"), workers=workers)
    settings.scripts[DEFAULT_SCRIPT].pack = pack
    # pick() needs no channel and no stream table
    pool = WorkerPool(settings, DEFAULT_SCRIPT, None, {}, None,  # type: ignore[arg-type]
                      itertools.count(1))
    slots = [LocalWorker(pool, i, i + 1) for i in range(workers)]
    for w in slots:
        w.ready = True
    pool.slots[:] = slots
    return pool, slots


def test_the_pool_picks_among_the_slots_in_use_and_spills_when_they_cannot_take_it():
    pool, (w0, w1, w2) = _pool(3)
    assert pool.packer is not None and pool.in_use == 1
    assert {pool.pick() for _ in range(5)} == {w0}
    w0.reserved = pool.limits.max_concurrent  # full: the least loaded of all
    w1.reserved = 2
    assert pool.pick() is w2
    w0.reserved = 0
    w0.ready = False  # restarting
    assert pool.pick() in (w1, w2)
    w0.ready = True
    pool.packer.in_use = 2
    w0.reserved, w1.reserved = 3, 1
    assert {pool.pick() for _ in range(5)} == {w1}  # the least loaded in use, not w2 at 0


def test_a_retry_avoids_the_worker_that_failed_if_another_can_take_it():
    pool, (w0, w1, w2) = _pool(3)
    assert pool.pick(avoid=w0) in (w1, w2)
    w1.ready = w2.ready = False
    assert pool.pick(avoid=w0) is w0  # no other: the same rather than none


def test_without_packing_every_worker_takes_requests_in_turn():
    pool, workers = _pool(3, pack=False)
    assert pool.packer is None and pool.in_use == 3
    assert [pool.pick() for _ in range(3)] == workers


def test_a_rest_counts_as_cool_and_forgets_the_readings(monkeypatch):
    threads = {10: {"10": 0}}
    monkeypatch.setattr(packing, "thread_cpu", lambda pid: dict(threads[pid]))
    packer = Packer(2)
    packer.sample([10], now=1.0)
    packer.rest()  # idle for a while: the next reading has nothing to compare with
    threads[10]["10"] = 10_000_000_000  # 10 s of CPU since the first reading
    packer.sample([10], now=2.0)
    assert packer.in_use == 1
    packer.update([1.0])
    assert packer.in_use == 2
    for _ in range(SHRINK_AFTER):
        packer.rest()
    assert packer.in_use == 1
