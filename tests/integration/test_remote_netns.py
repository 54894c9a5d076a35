"""Several hosts on one machine: the supervisor and two remote workers, each in its own network
namespace, joined by veth pairs. A host is cut off mid-stream (its link goes down), comes
back and rejoins by itself; another is killed mid-stream. Nothing leaves the machine: the
namespaces have no route anywhere but to each other and to this test.

Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2; skipped with the reason otherwise.
Every namespace and process is removed at the end, whatever happens.

    test (root ns) --10.231.0.0/24-- [S: supervisor] --10.231.1.0/24-- [A: worker a]
                                                     --10.231.2.0/24-- [B: worker b]
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, run
from tests.integration.ops_support import get
from tests.integration.remote_support import Procs, config, make_keys, procs_running, stream

NET = "10.231"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check,
                          timeout=10)


class Hosts:
    """Three namespaces: S (the supervisor), A and B (worker hosts)."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}"
        self.ns = {h: f"isoflow-{tag}-{h}" for h in "sab"}
        self.link = {h: f"if{tag}{h}" for h in "hab"}  # the S-side ends (h: to the test)
        self.made: list[str] = []

    def create(self) -> None:
        for ns in self.ns.values():
            ip("netns", "add", ns)
            self.made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        s = self.ns["s"]
        # The test's way in: root <-> S.
        host_end = self.link["h"]
        ip("link", "add", host_end + "r", "type", "veth", "peer", "name", host_end,
           "netns", s)
        ip("addr", "add", f"{NET}.0.1/24", "dev", host_end + "r")
        ip("link", "set", host_end + "r", "up")
        ip("-n", s, "addr", "add", f"{NET}.0.2/24", "dev", host_end)
        ip("-n", s, "link", "set", host_end, "up")
        for i, h in ((1, "a"), (2, "b")):
            end = self.link[h]
            ip("-n", s, "link", "add", end, "type", "veth", "peer", "name", end + "w",
               "netns", self.ns[h])
            ip("-n", s, "addr", "add", f"{NET}.{i}.1/24", "dev", end)
            ip("-n", s, "link", "set", end, "up")
            ip("-n", self.ns[h], "addr", "add", f"{NET}.{i}.2/24", "dev", end + "w")
            ip("-n", self.ns[h], "link", "set", end + "w", "up")

    def exec(self, host: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns[host]]

    def set_link(self, host: str, state: str) -> None:
        """Take worker host ``host``'s only link up or down (from the supervisor's side)."""
        ip("-n", self.ns["s"], "link", "set", self.link[host], state)

    def remove(self) -> None:
        # Deleting a namespace deletes the veth ends in it, and so their peers.
        for ns in reversed(self.made):
            ip("netns", "del", ns, check=False)
        ip("link", "del", self.link["h"] + "r", check=False)
        self.made.clear()


def _skip_reason() -> str | None:
    if shutil.which("ip") is None:
        return "needs iproute2's ip command (apt-get install iproute2)"
    if os.geteuid() != 0:
        return "needs root to create network namespaces and veth pairs"
    return None


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[tuple[Hosts, Procs]]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    net = Hosts()
    try:
        try:
            net.create()
        except subprocess.CalledProcessError as e:
            pytest.skip(f"cannot create network namespaces and veth pairs here: "
                        f"{' '.join(e.cmd)}: {e.stderr.strip()}")
        with procs_running(tmp_path) as procs:
            yield net, procs
    finally:
        net.remove()
        leftover = ip("netns", "list").stdout
        assert not any(ns in leftover for ns in net.ns.values()), leftover


def test_hosts_cut_off_and_killed_mid_stream(hosts: tuple[Hosts, Procs],
                                             tmp_path: Path) -> None:
    net, procs = hosts
    make_keys(tmp_path / "keys", "a", "b")
    port, rport, mport = free_port(), free_port(), free_port()
    sup = procs.supervisor(config(port, "0.0.0.0", rport, listen=f"{NET}.0.2", metrics=mport),
                           prefix=net.exec("s"))
    a = procs.worker("a", f"tcp://{NET}.1.1:{rport}", prefix=net.exec("a"))
    b = procs.worker("b", f"tcp://{NET}.2.1:{rport}", prefix=net.exec("b"))
    sup.wait_log(rf"app@a ready \(remote, pid \d+ on {NET}\.1\.2, key a\)", timeout=30)
    sup.wait_log(rf"app@b ready \(remote, pid \d+ on {NET}\.2\.2, key b\)", timeout=30)
    base = f"http://{NET}.0.2:{port}"

    async def one_stream_and_one_slow_request_each(fault) -> tuple[list[str], list[int]]:
        streams = [asyncio.create_task(stream(base + "/stream?n=25&ms=100"))
                   for _ in range(2)]
        await asyncio.sleep(0.3)
        slows = [asyncio.create_task(get(base + "/slow?ms=2500", "POST", data=b"x"))
                 for _ in range(2)]
        await asyncio.sleep(0.5)
        fault()
        done = sorted(outcome for outcome, _ in await asyncio.gather(*streams))
        statuses = sorted(s for s, _, _ in await asyncio.gather(*slows))
        return done, statuses

    async def all_ok(n: int = 4) -> bool:
        return [(await get(base + "/"))[0] for _ in range(n)] == [200] * n

    # 1. Host A's link goes down: nothing says so; heartbeats find out.
    done, statuses = run(one_stream_and_one_slow_request_each(lambda: net.set_link("a", "down")))
    assert done == ["aborted", "complete"], sup.log()
    assert statuses == [200, 502]
    sup.wait_log(r"remote worker app@a dropped: .*; 2 stream\(s\) on it fail")
    assert run(all_ok())
    # 2. The link comes back: ZeroMQ reconnects, the worker says HELLO again.
    net.set_link("a", "up")
    sup.wait_log(r"app@a ready \(remote", count=2, timeout=20)
    a.wait_log("lost the connection to the supervisor")
    assert a.proc.poll() is None  # the same process: it was never restarted

    # 3. Host B's worker is killed.
    done, statuses = run(one_stream_and_one_slow_request_each(b.kill))
    assert done == ["aborted", "complete"]
    assert statuses == [200, 502]
    sup.wait_log(r"remote worker app@b dropped: its connection is gone; 2 stream\(s\)")
    assert run(all_ok())
    status, _, body = run(get(f"http://{NET}.0.2:{mport}/metrics"))
    assert status == 200 and b'worker="app@a"' in body and b'worker="app@b"' not in body
