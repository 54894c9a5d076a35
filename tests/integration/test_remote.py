"""Remote workers over plain loopback TCP (tcp://127.0.0.1): keys, CURVE refusals, streaming,
a remote worker killed mid-stream, a restarted supervisor, reloads and revoked keys.

The same behaviour across separate network namespaces (a host cut off by its link going
down) is in test_remote_netns.py, which needs root.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
from zmq.utils import z85

from isoflow import protocol as p
from isoflow.supervisor.config import ConfigError, parse
from isoflow.supervisor.keyfile import load_keypair, load_public_key
from isoflow.supervisor.remote import ZapHandler, parse_identity
from tests.conftest import free_port, run
from tests.integration.ops_support import get
from tests.integration.remote_support import Procs, config, make_keys, procs_running, stream
from tests.processes import isoflow


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    with procs_running(tmp_path) as procs:
        yield procs


def test_keygen_writes_a_zmq_certificate_pair(tmp_path: Path) -> None:
    result = isoflow("keygen", "edge-1", "--dir", str(tmp_path / "keys"))
    assert result.returncode == 0, result.stderr
    public, secret = tmp_path / "keys/edge-1.key", tmp_path / "keys/edge-1.key_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert "secret-key" not in public.read_text()
    pub, sec = load_keypair(secret)
    assert load_public_key(public) == pub and len(pub) == 40 and len(sec) == 40
    assert pub.decode() in result.stdout
    again = isoflow("keygen", "edge-1", "--dir", str(tmp_path / "keys"))
    assert again.returncode == 1 and "not overwriting" in again.stderr


def test_zap_admits_only_authorized_curve_clients() -> None:
    allowed, _ = zmq.curve_keypair()
    other, _ = zmq.curve_keypair()

    def request(mechanism: bytes, *credentials: bytes, domain: bytes = b"isoflow") -> list:
        return [b"1.0", b"7", domain, b"10.0.0.9", b"", mechanism, *credentials]

    async def main() -> None:
        context = zmq.Context()
        zap = ZapHandler(context, {allowed: "host-a"})
        try:
            reply = zap.answer(request(b"CURVE", z85.decode(allowed)))
            assert reply == [b"1.0", b"7", b"200", b"OK", allowed, b""]
            assert zap.answer(request(b"CURVE", z85.decode(other)))[2] == b"400"
            assert zap.answer(request(b"NULL"))[2] == b"400"
            assert zap.answer(request(b"PLAIN", b"user", b"pass"))[2] == b"400"
            assert zap.answer(request(b"CURVE", z85.decode(allowed), domain=b"x"))[2] == b"400"
            assert zap.refused == 3
            assert zap.key_name(allowed.decode()) == "host-a" and zap.key_name(other) is None
        finally:
            zap.close()
            context.destroy(linger=0)

    asyncio.run(main())


def test_remote_identities_name_script_and_host() -> None:
    assert parse_identity(b"api@host-a-1.3f9a2c") == ("api", "api@host-a-1")
    assert parse_identity(b"api@db.example.com.3f9a2c") == ("api", "api@db.example.com")
    assert parse_identity(b"api/w0.3") is None and parse_identity(b"@x.1") is None
    assert parse_identity(b"\xff@x.1") is None
    # Nothing a log line could be forged with: no space, no line break, no control byte.
    assert parse_identity(b"api@a\n2026-12-07 ERROR forged.1") is None
    assert parse_identity(b"api@a b.1") is None and parse_identity(b"a" * 260 + b"@x.1") is None


def test_config_checks_the_remote_keys(tmp_path: Path) -> None:
    (tmp_path / "app.mjs").write_text("export default { fetch() { return new Response('') } }")
    make_keys(tmp_path / "keys", "w1")
    good = config(8080, "127.0.0.1", 7700)
    settings = parse(good, tmp_path / "isoflow.toml").settings
    assert settings.remote is not None and settings.scripts["app"].remote
    assert settings.scripts["app"].workers == 0

    bad = good.replace('key = "keys/supervisor.key_secret"', 'key = "keys/supervisor.key"')
    bad = bad.replace('remote = true\n', "")
    with pytest.raises(ConfigError) as e:
        parse(bad, tmp_path / "isoflow.toml")
    text = str(e.value)
    assert "remote.key: " in text and "holds no secret key" in text
    assert "scripts.app.workers: must be between 1 and 1024, got 0" in text

    os.mkfifo(tmp_path / "keys" / "pipe.key_secret")  # loading it blocked for good
    with pytest.raises(ConfigError, match=r"pipe\.key_secret: not a regular file"):
        parse(good.replace("supervisor.key_secret", "pipe.key_secret"), tmp_path / "i.toml")

    no_table = good[:good.index("[remote]")] + good[good.index("[scripts.app]"):]
    with pytest.raises(ConfigError, match="remote workers need a \\[remote\\] table"):
        parse(no_table, tmp_path / "isoflow.toml")

    # A worker host reads only its script (and needs no listener TLS files).
    worker_view = good.replace('port = 8080', 'port = 443\ntls_cert = "nope.pem"\n'
                                              'tls_key = "nope.pem"')
    worker_view = worker_view.replace('key = "keys/supervisor.key_secret"', 'key = "gone"')
    assert parse(worker_view, tmp_path / "x.toml", worker_script="app").settings.scripts
    with pytest.raises(ConfigError, match="no script named 'api'"):
        parse(worker_view, tmp_path / "x.toml", worker_script="api")


def test_worker_command_checks_its_config_and_keys(tmp_path: Path) -> None:
    (tmp_path / "app.mjs").write_text("export default { fetch() { return new Response('') } }")
    make_keys(tmp_path / "keys", "w1")
    path = tmp_path / "isoflow.toml"
    path.write_text(config(8080, "127.0.0.1", 7700).replace("remote = true\n", "")
                    .replace("workers = 0", "workers = 1"))
    args = ["worker", "--config", str(path), "--script", "app", "--connect",
            "tcp://127.0.0.1:7700", "--key", str(tmp_path / "keys/w1.key_secret"),
            "--server-key", str(tmp_path / "keys/supervisor.key")]
    result = isoflow(*args)
    assert result.returncode == 2 and "remote is not true" in result.stderr
    path.write_text(config(8080, "127.0.0.1", 7700))
    result = isoflow(*[a.replace("w1.key_secret", "w1.key") for a in args])
    assert result.returncode == 2 and "holds no secret key" in result.stderr
    result = isoflow(*[a.replace("tcp://", "ipc://") for a in args])
    assert result.returncode == 2 and "--connect must be tcp://" in result.stderr


def test_remote_workers_serve_stream_and_fail_visibly(procs: Procs, tmp_path: Path) -> None:
    make_keys(tmp_path / "keys", "a", "b")
    port, rport, mport = free_port(), free_port(), free_port()
    sup = procs.supervisor(config(port, "127.0.0.1", rport, metrics=mport))
    status, _, body = run(get(f"http://127.0.0.1:{mport}/readyz"))
    assert status == 503 and b"no ready worker" in body
    a = procs.worker("a", f"tcp://127.0.0.1:{rport}")
    procs.worker("b", f"tcp://127.0.0.1:{rport}")
    sup.wait_log(r"app@a ready \(remote, pid \d+ on 127\.0\.0\.1, key a\)")
    sup.wait_log(r"app@b ready \(remote")
    base = f"http://127.0.0.1:{port}"

    async def scenario() -> None:
        assert (await get(f"http://127.0.0.1:{mport}/readyz"))[0] == 200
        status, _, body = await get(base + "/x")
        assert (status, body) == (200, b"hello from app at /x")
        payload = os.urandom(3 << 20)  # several windows of credit each way
        status, _, body = await get(base + "/echo", "POST", data=payload)
        assert status == 200 and body == payload
        # One stream and one slow POST on each worker, then worker a is killed.
        streams = [asyncio.create_task(stream(base + "/stream?n=25&ms=100"))
                   for _ in range(2)]
        await asyncio.sleep(0.3)
        slows = [asyncio.create_task(get(base + "/slow?ms=2500", "POST", data=b"x"))
                 for _ in range(2)]
        await asyncio.sleep(0.5)
        a.kill()
        outcomes = sorted([s[0] for s in await asyncio.gather(*streams)])
        assert outcomes == ["aborted", "complete"]
        slow = sorted((s, b) for s, _, b in await asyncio.gather(*slows))
        assert slow[0] == (200, b"slow done")
        assert slow[1][0] == 502 and b"(app@a) was lost" in slow[1][1]
        for _ in range(4):  # new requests go to b
            assert (await get(base + "/"))[0] == 200

    run(scenario())
    sup.wait_log(r"remote worker app@a dropped: its connection is gone; 2 stream\(s\)")
    assert "worker=app@a" in sup.log() and "aborted" in sup.log()
    # a's host restarts it: it joins again.
    procs.worker("a", f"tcp://127.0.0.1:{rport}")
    sup.wait_log(r"app@a ready \(remote", count=2)
    status, _, _ = run(get(base + "/"))
    assert status == 200


def test_unauthorized_worker_and_wrong_server_key_are_refused(procs: Procs,
                                                              tmp_path: Path) -> None:
    make_keys(tmp_path / "keys", "a")
    keys = tmp_path / "keys"
    from isoflow.supervisor.keyfile import keygen

    keygen(keys, "intruder")  # a valid keypair the supervisor does not know
    port, rport, mport = free_port(), free_port(), free_port()
    sup = procs.supervisor(config(port, "127.0.0.1", rport, metrics=mport))
    intruder = procs.worker("intruder", f"tcp://127.0.0.1:{rport}")
    impostor = procs.worker("a", f"tcp://127.0.0.1:{rport}",
                            server_key="keys/intruder.key")  # not the supervisor's key
    sup.wait_log(r"refused a remote worker from 127\.0\.0\.1: key \S+ is not in "
                 r"authorized_keys")
    sup.wait_log(r"a CURVE handshake on tcp://127\.0\.0\.1:\d+ failed")
    intruder.wait_log(r"refused this worker's key \(status 400\)")
    impostor.wait_log(r"the CURVE handshake with tcp://127\.0\.0\.1:\d+ failed")
    status, _, body = run(get(f"http://127.0.0.1:{mport}/readyz"))
    assert status == 503 and b"no ready worker" in body
    assert " ready (remote" not in sup.log()
    # A peer with no key that announces a 256 MiB command frame in the CURVE handshake is
    # cut off at once (MAXMSGSIZE): nothing of it is buffered.
    before = rss_kib(sup.pid)
    with socket.create_connection(("127.0.0.1", rport), timeout=10) as peer:
        peer.sendall(b"\xff" + bytes(8) + b"\x7f\x03\x00" + b"CURVE".ljust(20, b"\0")
                     + bytes(32))
        peer.sendall(b"\x06" + struct.pack(">Q", 256 << 20))
        sent, refused = 0, False
        try:
            for _ in range(256):
                peer.sendall(bytes(1 << 20))
                sent += 1
        except OSError:
            refused = True
    assert refused and sent < 64, sent
    assert rss_kib(sup.pid) - before < 32 << 10


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def _fake_remote(tmp: Path, key: str, identity: bytes, rport: int) -> zmq.Socket:
    """A DEALER with ``key``'s CURVE keypair, connected as ``identity``."""
    public, secret = load_keypair(tmp / "keys" / f"{key}.key_secret")
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.IDENTITY, identity)
    sock.setsockopt(zmq.CURVE_SERVERKEY, load_public_key(tmp / "keys" / "supervisor.key"))
    sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
    sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{rport}")
    return sock


def test_another_key_cannot_speak_for_an_admitted_remote_worker(procs: Procs,
                                                                tmp_path: Path) -> None:
    """Ids are the routing ids of the TCP ROUTER (ROUTER_HANDOVER: a reconnecting worker
    takes its id over): a connection with another authorized key that uses an admitted
    worker's id is not heard as that worker, and its HELLO does not admit it."""
    make_keys(tmp_path / "keys", "a", "b")
    port, rport, mport = free_port(), free_port(), free_port()
    sup = procs.supervisor(config(port, "127.0.0.1", rport, metrics=mport))
    ident = b"app@victim.0123456789abcdef"
    victim = _fake_remote(tmp_path, "a", ident, rport)
    thief = None
    try:
        victim.send_multipart(p.encode(p.Hello(0, "victim", os.getpid(), 1 << 16)))
        sup.wait_log(r"app@victim ready \(remote")
        # Stats that are not finite numbers are dropped, not fed to the metrics (a NaN
        # made every scrape fail with 500).
        stats = {"heap_used": float("nan"), "heap_total": 4096, "rss": float("inf")}
        victim.send_multipart(p.encode(p.Pong(0, 0, stats)))
        for _ in range(100):
            status, _, body = run(get(f"http://127.0.0.1:{mport}/metrics"))
            assert status == 200, body
            if re.search(rb'isoflow_isolate_heap_total_bytes\{[^}]*app@victim[^}]*\} 4096',
                         body):
                break
            run(asyncio.sleep(0.05))
        else:
            raise AssertionError("the PONG's finite stats never reached the metrics")
        thief = _fake_remote(tmp_path, "b", ident, rport)
        thief.send_multipart(p.encode(p.Pong(0, 1, {"heap_used": 1})))
        sup.wait_log(r"dropped frames for remote worker app@victim that came with another "
                     r"key \(b\)")
        thief.send_multipart(p.encode(p.Hello(0, "thief", os.getpid(), 1 << 16)))
        sup.wait_log(r"refused remote worker app@victim from \S+: its id is that of a worker "
                     r"with another key \(b\)")
        sup.wait_log(r"app@victim.*a connection with another key took its id")
        assert sup.log().count("app@victim ready (remote") == 1
    finally:
        victim.close(linger=0)
        if thief is not None:
            thief.close(linger=0)


def test_worker_rejoins_a_restarted_supervisor_and_survives_reloads(procs: Procs,
                                                                    tmp_path: Path) -> None:
    make_keys(tmp_path / "keys", "a")
    port, rport = free_port(), free_port()
    text = config(port, "127.0.0.1", rport)
    sup = procs.supervisor(text)
    worker = procs.worker("a", f"tcp://127.0.0.1:{rport}")
    sup.wait_log(r"app@a ready \(remote")
    base = f"http://127.0.0.1:{port}"
    assert run(get(base + "/"))[0] == 200

    # A reload keeps the remote worker (it joins the new pool) ...
    sup.proc.send_signal(signal.SIGHUP)
    sup.wait_log("reloaded: serving")
    assert run(get(base + "/after-reload"))[:3:2] == (200, b"hello from app at /after-reload")
    # ... unless its key was removed from authorized_keys.
    (tmp_path / "keys/authorized/a.key").unlink()
    sup.proc.send_signal(signal.SIGHUP)
    sup.wait_log(r"remote worker app@a dropped: its key was removed from authorized_keys")
    (tmp_path / "keys/authorized/a.key").write_bytes((tmp_path / "keys/a.key").read_bytes())
    sup.proc.send_signal(signal.SIGHUP)
    sup.wait_log("reloaded: serving", count=3)

    # The supervisor restarts: the same worker process says HELLO to the new one.
    assert sup.stop() == 0
    worker.wait_log("lost the connection to the supervisor")
    sup2 = procs.supervisor(text, name="sup")  # the same port and keys
    sup2.wait_log(rf"app@a ready \(remote, pid {worker.pid}")
    assert run(get(base + "/again"))[0] == 200
    assert worker.proc.poll() is None
