"""The packer (supervisor/packing.py): how many slots take new requests, sample by sample."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from supervisor import packing
from supervisor.packing import COOL, HOT, SHRINK_AFTER, Packer, supported, thread_cpu


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
