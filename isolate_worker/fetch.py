"""Outbound ``fetch()``: HTTP/1.1 with aiohttp's client, one connection pool per worker.

JavaScript asks for a fetch with an action; this module runs the request and feeds the
response back as events (``js/34_fetch.js`` is the other half):

* the head is sent as soon as it arrives; the body is read from the upstream socket only
  while JavaScript holds credit, granted as the script pulls - an unread body stops the
  transfer (TCP backpressure) instead of piling up;
* request bodies stream the other way under credit we grant as aiohttp writes them;
* a body nobody touched in JavaScript can be *forwarded*: piped from the upstream socket
  into a response stream to the supervisor, or from the client's upload into the upstream
  request, without entering V8 (``ForwardTarget``).

gzip, deflate and br bodies are decoded here, as browsers do, when JavaScript reads them;
the head tells JavaScript which coding that is, and a body forwarded untouched keeps its
raw bytes only where its response names that same coding (``js/90_serve.js``).

Redirects are followed here, hop by hop, so that every hop passes the outbound address
policy (``AddressPolicy``), which is enforced at connect time on the resolved address.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import ipaddress
import logging
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from multidict import CIMultiDict
from yarl import URL

from isoflow.protocol import headers as header_bytes

from . import codecs
from .handover import flushed
from .kinds import (
    EV_FETCH_CREDIT,
    EV_FETCH_DATA,
    EV_FETCH_END,
    EV_FETCH_ERROR,
    EV_FETCH_HEAD,
)

log = logging.getLogger("isoflow.worker.fetch")


def _lazy_import(name: str) -> Any:
    """Import a module on first attribute access: aiohttp's client costs a worker ~10 MB,
    which a script that never calls fetch() should not pay."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


aiohttp = _lazy_import("aiohttp")

REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 20
# The largest response head (all header fields) taken from an upstream: over it, the fetch
# fails with a TypeError (a 502 if the script lets it through), as the front answers 431.
MAX_HEADER_SIZE = 64 << 10
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
READ_SIZE = 64 << 10
FLUSH_WAIT = 5.0  # seconds an upload waits for its written bytes to leave before a hand-over


class FetchFailed(Exception):
    """A fetch that cannot complete; the message is shown to the script as a TypeError."""


_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "upgrade"})


def _end_to_end(pairs: list[Any]) -> list[tuple[str, str]]:
    """``pairs`` without hop-by-hop fields: Connection, those it names (RFC 9110 §7.6.1: a
    proxy does not forward them) and the fixed ones; aiohttp manages its own connection."""
    hop = _HOP_BY_HOP | header_bytes.field_tokens(
        v for k, v in pairs if k.lower() == "connection")
    return [(k, v) for k, v in pairs if k.lower() not in hop]


# How to allow them, for the error a refused fetch() gives.
_ALLOW = ("(allow them with --allow-fetch-to {kind}, or allow_{kind} = true under [fetch] "
          "or [scripts.NAME.fetch] in the config)")


# The Fetch standard's bad ports (https://fetch.spec.whatwg.org/#port-blocking): services an
# HTTP request must never reach (SMTP, IRC, ...); a fetch to one is a network error.
BAD_PORTS = frozenset({
    0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95,
    101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179,
    389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601,
    636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566,
    6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
})


@dataclass(frozen=True)
class AddressPolicy:
    """Which destinations fetch() may connect to (checked on every resolved address)."""

    allow_private: bool = False
    allow_loopback: bool = False

    def check(self, address: str) -> None:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address):
            # An IPv4 address inside an IPv6 one (mapped ::ffff:a.b.c.d, 6to4 2002::/16,
            # NAT64's well-known prefix 64:ff9b::/96) is judged as that IPv4 address.
            embedded = ip.ipv4_mapped or ip.sixtofour
            if embedded is None and ip in _NAT64:
                embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
            if embedded is not None:
                ip = embedded
        if ip.is_loopback:
            if not self.allow_loopback:
                raise PermissionError(f"connections to loopback address {ip} are not allowed "
                                      f"{_ALLOW.format(kind='loopback')}")
            return
        if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
            raise PermissionError(f"connections to {ip} are not allowed")
        # Anything not globally reachable counts as private: RFC 1918, ULA, link-local
        # (cloud metadata at 169.254.169.254), shared address space 100.64.0.0/10 (which
        # is_private misses), site-local fec0::/10, documentation and benchmark ranges.
        private = (not ip.is_global or ip.is_private or ip.is_link_local
                   or getattr(ip, "is_site_local", False))
        if private and not self.allow_private:
            raise PermissionError(f"connections to private address {ip} are not allowed "
                                  f"{_ALLOW.format(kind='private')}")

    def socket_factory(self, addr_info: Any) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        if sockaddr[1] in BAD_PORTS:  # every hop (redirects) and WebSockets connect here
            raise PermissionError(f"connections to port {sockaddr[1]} are not allowed "
                                  "(a bad port of the Fetch standard)")
        self.check(sockaddr[0])
        sock = socket.socket(family=family, type=type_, proto=proto)
        sock.setblocking(False)
        return sock


class ForwardTarget(Protocol):
    """Where a forwarded response body goes (a response stream to the supervisor)."""

    async def write(self, data: bytes) -> None: ...
    def end(self) -> None: ...
    def fail(self, message: str) -> None: ...
    def relay(self, framing: str, length: int, prefix: bytes, fd: int) -> bool: ...


class Credit:
    """Bytes a consumer allows us to produce; ``wait`` waits while there is none, or until
    ``close`` says nothing more will come."""

    def __init__(self, initial: int = 0) -> None:
        self.available = initial
        self.closed = False
        self._waiter: asyncio.Future[None] | None = None

    def grant(self, size: int) -> None:
        self.available += size
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self) -> None:
        while self.available <= 0 and not self.closed:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter


_CODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "br": "brotli"}


def _coding(resp: aiohttp.ClientResponse) -> str:
    """The format of the one coding ``resp``'s Content-Encoding names (its fields combined),
    which its body is decoded from when JavaScript reads it: "gzip", "deflate", "brotli";
    "" for none, identity, one not known or several (the body is then given as it came)."""
    value = ", ".join(resp.headers.getall("Content-Encoding", ()))
    return _CODINGS.get(value.strip().lower(), "")


def _decoder(fmt: str) -> Any | None:
    """A decoder (``codecs.py``: output in bounded pieces) of a :func:`_coding` format, or
    None for ""."""
    if not fmt:
        return None
    return _Deflate() if fmt == "deflate" else codecs.decoder(fmt)


class _Deflate:
    """Content-Encoding "deflate": browsers accept raw deflate as well as zlib's wrapping of
    it; the first bytes decide which it is."""

    def __init__(self) -> None:
        self.inner: codecs.Inflater | None = None

    def feed(self, data: bytes) -> None:
        if self.inner is None:
            zlib_wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and \
                ((data[0] << 8) | data[1]) % 31 == 0
            self.inner = codecs.Inflater("deflate" if zlib_wrapped else "deflate-raw")
        self.inner.feed(data)

    def pull(self) -> tuple[bytes, bool]:
        return self.inner.pull() if self.inner is not None else (b"", False)


class UploadSplice(Protocol):
    """Where an untouched upload can be handed over to the supervisor (the splice relay)."""

    def ready(self) -> bool:
        """Nothing of the body is in flight towards us (the supervisor has no credit)."""
        ...

    def ask(self, fd: int, received: int, chunked: bool) -> bool:
        """Hand the upstream socket ``fd`` over for the rest of the body; False if not sent."""
        ...


class Upload:
    """A request body arriving in pieces (from JavaScript or from the client).

    An upload forwarded untouched from the client may be *spliced*: once everything the
    supervisor was allowed to send has arrived and is written upstream (the credit for it
    is held back until then, so nothing else is in flight), the upstream socket is handed to
    the supervisor, which puts the rest of the body into it itself and then ends the body.
    """

    def __init__(self, on_consumed: Callable[[int], None]) -> None:
        self.queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        self.on_consumed = on_consumed
        self.started = False
        self.splice: UploadSplice | None = None  # set when the upload may be handed over
        self.writer: Any = None  # aiohttp's writer of the request (UploadPayload)
        self.received = 0
        self._withheld = 0  # consumed bytes whose credit waits for the hand-over
        # The supervisor puts the rest into the socket and nothing is left for our writer
        # (a body in chunks still needs its last chunk from it, after REQUEST_END).
        self.writer_done = False

    def feed(self, data: bytes | memoryview) -> None:
        self.received += len(data)
        self.queue.put_nowait(data)

    def end(self) -> None:
        self.queue.put_nowait(None)

    def fail(self, error: BaseException) -> None:
        self.queue.put_nowait(error)

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.started:
            raise FetchFailed("a streamed request body cannot be sent twice")
        self.started = True
        while True:
            if self.splice is not None and self.queue.empty() and self.splice.ready():
                await self._hand_over()
            item = await self.queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            if self.splice is not None:
                self._withheld += len(item)
            else:
                self.on_consumed(len(item))

    async def _hand_over(self) -> None:
        """Everything received is written: give the socket away (once), then let the
        withheld credit go (ignored once the supervisor relays; frames resume if not)."""
        splice, self.splice = self.splice, None
        writer = self.writer
        transport = writer.transport if writer is not None else None
        if transport is not None and transport.get_extra_info("sslcontext") is None:
            if hasattr(writer, "send_headers"):
                writer.send_headers()  # aiohttp holds the head until the first body bytes
            # Written is not yet in the socket; an upstream that takes nothing: no hand-over.
            sock = transport.get_extra_info("socket")
            if sock is not None and await flushed(transport, FLUSH_WAIT):
                assert splice is not None
                chunked = bool(writer.chunked)
                self.writer_done = splice.ask(sock.fileno(), self.received, chunked) \
                    and not chunked
        if self._withheld:
            self.on_consumed(self._withheld)
            self._withheld = 0


@functools.cache
def _upload_payload() -> type:
    """aiohttp's payload for an async iterable, which tells the upload its writer (the
    socket an upload splice hands over)."""

    class UploadPayload(aiohttp.payload.AsyncIterablePayload):
        def __init__(self, upload: Upload) -> None:
            super().__init__(upload.chunks())
            self.upload = upload

        async def write_with_length(self, writer: Any, content_length: int | None) -> None:
            self.upload.writer = writer
            await super().write_with_length(writer, content_length)

    return UploadPayload


# Request fields fetch sets itself, whatever the script's headers say: the framing (below), and
# Host from the URL (a proxy script that passes its request's headers on let a client pick
# the upstream's virtual host; Host is a forbidden request header in Fetch, as in Workers).
_SET_BY_FETCH = ("host", "content-length", "transfer-encoding", "expect")


async def _exactly(chunks: AsyncIterator[bytes], length: int) -> AsyncIterator[bytes]:
    """``chunks``, which must come to ``length`` bytes: a body that ends short or runs long
    fails its request (and its connection is closed, not pooled)."""
    sent = 0
    async for chunk in chunks:
        sent += len(chunk)
        if sent > length:
            raise FetchFailed(f"fetch failed: the request body is longer than its length "
                              f"{length}")
        yield chunk
    if sent != length:
        raise FetchFailed(f"fetch failed: the request body ended at {sent} of its {length} "
                          "bytes")


class Fetch:
    """One outbound request, from its action to the end of its body."""

    def __init__(self, client: FetchClient, fid: int, method: str, url: str,
                 headers: list[list[str]], body: Any, length: int, redirect: str) -> None:
        self.client = client
        self.fid = fid
        self.method = method
        self.url = url
        self.headers = headers
        self.body_kind = body if isinstance(body, str) or body is None else body[0]
        self.body_source = body
        self.length = length
        self.redirect = redirect
        self.credit = Credit(0)  # response bytes JS may receive (granted by pulls)
        self.forward: ForwardTarget | None = None
        self.forward_ready = asyncio.get_running_loop().create_future()
        self.upload: Upload | None = None
        self.bytes_body: bytearray | None = None
        self.task: asyncio.Task | None = None

    # -- request body ---------------------------------------------------------------------

    def _body(self) -> Any:
        if self.body_kind is None:
            return None
        if self.bytes_body is not None:
            return bytes(self.bytes_body)
        assert self.upload is not None
        if self.upload.splice is not None:  # the client's body: its length is its parser's
            return _upload_payload()(self.upload)
        if self.length >= 0:
            return _exactly(self.upload.chunks(), self.length)
        return self.upload.chunks()

    async def _collect_bytes(self) -> None:
        """A body of known bytes is gathered first, so redirects can resend it."""
        assert self.upload is not None
        data = bytearray()
        async for chunk in self.upload.chunks():
            data += chunk
        self.bytes_body = data

    # -- the request ----------------------------------------------------------------------

    async def run(self) -> None:
        client = self.client
        resp: aiohttp.ClientResponse | None = None
        try:
            if self.body_kind == "bytes":
                await self._collect_bytes()
            resp, final_url, redirected = await self._request_following_redirects()
            raw = resp.raw_headers
            if sum(len(k) + len(v) + 4 for k, v in raw) > MAX_HEADER_SIZE:
                raise FetchFailed(f"fetch failed: the response from {final_url} has header "
                                  f"fields larger than {MAX_HEADER_SIZE} bytes")
            # Bytes as latin-1 (one code unit each); fields its Connection names are dropped.
            pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
            headers = [x for pair in _end_to_end(pairs) for x in pair]
            client.emit_head(self.fid, resp.status, resp.reason or "", headers, final_url,
                             redirected, _coding(resp))
            await self._body_loop(resp)
        except asyncio.CancelledError:
            if resp is not None:
                resp.close()
            raise
        except FetchFailed as e:
            client.emit_error(self.fid, str(e))
        except PermissionError as e:
            client.emit_error(self.fid, f"fetch to {self.url} was refused: {e}")
        except aiohttp.InvalidURL as e:
            client.emit_error(self.fid, f"fetch failed: invalid URL {e}")
        except aiohttp.ClientConnectorError as e:
            cause = e.os_error
            if isinstance(cause, PermissionError):
                client.emit_error(self.fid, f"fetch to {self.url} was refused: {cause}")
            elif isinstance(cause, socket.gaierror):
                client.emit_error(self.fid, f"fetch failed: DNS lookup of {e.host} failed")
            else:
                client.emit_error(self.fid, f"fetch failed: cannot connect to {e.host}:{e.port}: "
                                            f"{cause.strerror or cause}")
        except aiohttp.ClientPayloadError as e:
            client.emit_error(self.fid, f"fetch failed: the response body broke off: {e}")
        except (aiohttp.ClientError, OSError, ValueError) as e:
            client.emit_error(self.fid, f"fetch failed: {e.__class__.__name__}: {e}")
        finally:
            if resp is not None:
                resp.release()
            client.fetches.pop(self.fid, None)

    async def _request_following_redirects(self) -> tuple[aiohttp.ClientResponse, str, bool]:
        method, url, body_kind = self.method, self.url, self.body_kind
        # The body's framing is ours: its length when known, else chunks. A Content-Length
        # or Transfer-Encoding from the script's headers is not sent: a length that is not
        # the body's desynchronised the pooled upstream connection (an early answer left
        # the rest of the declared body to be read from the next request: smuggling). Nor
        # is an Expect: aiohttp would wait for a 100 Continue with no time limit, and an
        # upstream may answer without one (RFC 9110, 10.1.1): the body is sent at once.
        headers = CIMultiDict((k, v) for k, v in _end_to_end(self.headers)
                              if k.lower() not in _SET_BY_FETCH)
        length = len(self.bytes_body) if self.bytes_body is not None else self.length
        if body_kind is not None and length >= 0:
            headers["Content-Length"] = str(length)
        redirected = False
        for _hop in range(MAX_REDIRECTS + 1):
            parsed = URL(url)
            if parsed.scheme not in ("http", "https"):
                raise FetchFailed(f"fetch failed: unsupported URL scheme '{parsed.scheme}:'")
            data = self._body() if body_kind is not None else None
            resp = await self.client.session.request(
                method, parsed, headers=headers, data=data, allow_redirects=False,
                auto_decompress=False,
                # aiohttp would add Content-Type: application/octet-stream; Fetch does not.
                skip_auto_headers=() if "content-type" in headers else ("Content-Type",),
            )
            if resp.status not in REDIRECT_STATUS or self.redirect == "manual":
                return resp, url, redirected
            location = resp.headers.get("Location")
            if location is None:
                return resp, url, redirected
            resp.release()
            if self.redirect == "error":
                raise FetchFailed(f"fetch failed: redirected to {location} (redirect: 'error')")
            try:
                target = parsed.join(URL(location))
            except ValueError:
                raise FetchFailed(f"fetch failed: the redirect's Location {location!r} is "
                                  "not a URL") from None
            if target.scheme not in ("http", "https"):  # Fetch: a network error
                raise FetchFailed(f"fetch failed: a redirect to a {target.scheme}: URL is not "
                                  "followed (only http: and https:)")
            url = str(target)
            redirected = True
            # 301/302 for POST, and 303 for anything but HEAD, become GET without a body.
            if (resp.status in (301, 302) and method == "POST") or (
                resp.status == 303 and method != "HEAD"
            ):
                method = "GET"
                body_kind = None
                for name in ("content-type", "content-length", "content-encoding",
                             "content-language", "content-location"):
                    headers.popall(name, None)
            elif body_kind is not None and self.bytes_body is None:
                raise FetchFailed("fetch failed: cannot follow a redirect with a streamed body")
            if target.origin() != parsed.origin():
                headers.popall("Authorization", None)
        raise FetchFailed(f"fetch failed: more than {MAX_REDIRECTS} redirects")

    async def _body_loop(self, resp: aiohttp.ClientResponse) -> None:
        """Wait for the first consumer (JS pulling, or a forward), then stream to it."""
        content = resp.content
        credit_wait = asyncio.ensure_future(self.credit.wait())
        try:
            await asyncio.wait([credit_wait, self.forward_ready],
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            credit_wait.cancel()
        if self.forward is not None:
            target = self.forward
            if self._relay(resp, target):
                return
            try:
                while True:
                    chunk = await content.readany()
                    if not chunk:
                        break
                    await target.write(chunk)
            except aiohttp.ClientPayloadError as e:
                target.fail(f"the upstream body broke off: {e}")
                return
            target.end()
            return
        _stop_recording(resp)  # JavaScript reads it: never relayed
        decoder = _decoder(_coding(resp))
        while True:
            await self.credit.wait()
            chunk = await content.readany()
            if not chunk:
                break
            if decoder is None:
                self._emit(chunk)
                continue
            # Decoded output goes to JS a bounded piece at a time, each within credit: a
            # small body that inflates to gigabytes (a bomb) is never whole in this process.
            decoder.feed(chunk)
            while True:
                try:
                    out, more = decoder.pull()
                except codecs.Corrupt as e:
                    message = f"fetch failed: cannot decode the response body: {e}"
                    raise FetchFailed(message) from None
                if out:
                    self._emit(out)
                if not more:
                    break
                await self.credit.wait()
        self.client.emit_end(self.fid)

    def _emit(self, chunk: bytes) -> None:
        self.credit.available -= len(chunk)
        self.client.emit_data(self.fid, chunk)

    def _relay(self, resp: aiohttp.ClientResponse, target: ForwardTarget) -> bool:
        """Hand the upstream connection itself to the supervisor, with the bytes of the body
        aiohttp has read already (the splice relay); False: the body takes the frame path
        (TLS, a body aiohttp has read whole, no hand-over socket, ...)."""
        source = relay_source(resp)
        # The connection carries our request body until it is written (aiohttp's writer
        # task, kept for subclasses): handing it over then would cut the body off, or its
        # last chunk, and an upstream that answers as it reads (an echo) would wait for the
        # rest forever. An upload the supervisor finishes whole leaves nothing to write.
        writing = getattr(resp, "_writer", None) is not None
        if writing and not (self.upload is not None and self.upload.writer_done):
            source = None
        if source is None:
            _stop_recording(resp)
            return False
        framing, length, prefix, transport = source
        sock = transport.get_extra_info("socket")
        reading = transport.is_reading()
        transport.pause_reading()  # nothing more is read here; the rest is the supervisor's
        if sock is None or not target.relay(framing, length, prefix, sock.fileno()):
            if reading:
                transport.resume_reading()
            _stop_recording(resp)
            return False
        resp.close()  # closes our descriptor only: the supervisor holds the connection now
        return True


def _stop_recording(resp: aiohttp.ClientResponse) -> None:
    """The body is read here: no raw bytes kept, and reading goes on."""
    conn = resp.connection
    protocol = conn.protocol if conn is not None else None
    if protocol is not None and hasattr(protocol, "release_hold"):
        protocol.raw = None
        protocol.release_hold()


def relay_source(resp: aiohttp.ClientResponse) -> tuple[str, int, bytes, Any] | None:
    """How the upstream delimits ``resp``'s body, the raw bytes of it read so far, and the
    transport, if the body can be relayed: a plain TCP connection whose raw bytes were
    recorded from the start of this response (:func:`_upstream_handler`) and whose body is
    still coming."""
    conn = resp.connection
    protocol = conn.protocol if conn is not None else None
    raw = getattr(protocol, "raw", None)
    if protocol is None or raw is None or resp.content.is_eof():
        return None
    transport = protocol.transport
    if transport is None or transport.get_extra_info("sslcontext") is not None:
        return None
    data = b"".join(raw)
    end = data.find(b"\r\n\r\n")
    status = data[: data.find(b"\r\n")].split(b" ", 2)
    if end < 0 or len(status) < 2 or status[1] != b"%d" % resp.status:
        return None  # not one plain head (an interim 1xx response came first)
    if data.count(b"\n", 0, end) != data.count(b"\r\n", 0, end):
        # A line ended by a bare LF (aiohttp's parser takes it): the first CRLF CRLF may lie
        # inside the body, so where the head ends is not known here. The body takes frames.
        return None
    codings = header_bytes.field_tokens(resp.headers.getall("Transfer-Encoding", []))
    length = resp.content_length
    if "chunked" in codings:
        framing, length = "chunked", -1
    elif codings:
        return None  # a transfer coding we would have to undo
    elif length is not None:
        framing = "length"
    else:
        framing, length = "close", -1
    return framing, length, data[end + 4:], transport


@functools.cache
def _upstream_handler() -> type:
    """aiohttp's connection protocol, with two changes:

    * a connection *reset* while a body is still being read fails that body. aiohttp ends a
      body that only the close delimits (no Content-Length, not chunked) at any close, so a
      reset would pass for its end and a cut upstream body would reach the script, or the
      client, as complete;
    * the raw bytes of each response are kept (``raw``) until its body is read here or
      forwarded, so that a forwarded body can be handed over with its socket from its first
      byte (:func:`relay_source`): aiohttp's parser leaves no trace of where in a chunk it
      stopped. They are the bytes aiohttp buffers anyway (its flow control bounds them).
    """
    from aiohttp.client_proto import ResponseHandler

    class UpstreamHandler(ResponseHandler):
        raw: list[bytes] | None = None
        held = False  # reading paused after a head until its body has a consumer

        def __init__(self, loop: asyncio.AbstractEventLoop, record: bool) -> None:
            super().__init__(loop)
            self.record = record  # keep raw bytes (only where bodies can be relayed)

        def set_response_params(self, **kwargs: Any) -> None:
            self.raw = [] if self.record else None
            super().set_response_params(**kwargs)

        def data_received(self, data: bytes) -> None:
            raw = self.raw
            if raw is not None and data:
                raw.append(data)
            before = self._payload
            super().data_received(data)
            payload = self._payload
            if (raw is not None and payload is not before and payload is not None
                    and not payload.is_eof() and not self._upgraded
                    and self.transport is not None):
                # A head whose body is still coming: nothing more is read until the body
                # has a consumer (release_hold); a forward hands the rest over unread.
                self.transport.pause_reading()
                self.held = True

        def release_hold(self) -> None:
            """Read on after a head (:meth:`data_received`), unless aiohttp's own flow
            control holds the connection."""
            if self.held:
                self.held = False
                if (self.transport is not None and not self._reading_paused
                        and not getattr(self, "_buffer_paused", False)):
                    self.transport.resume_reading()

        def connection_lost(self, exc: BaseException | None) -> None:
            self.raw = None
            payload = self._payload
            if exc is not None and payload is not None and not payload.is_eof():
                payload.set_exception(aiohttp.ClientPayloadError(
                    f"the connection was reset before the body ended ({exc})"))
            super().connection_lost(exc)

    return UpstreamHandler


class FetchClient:
    """All fetches of one worker: one aiohttp session, events out through ``emit``."""

    def __init__(self, emit: Callable[[list[Any], bytes | None], None], *,
                 policy: AddressPolicy, upload_window: int = 256 << 10,
                 relay: bool = False) -> None:
        self.emit = emit
        self.policy = policy
        self.relay = relay  # forwarded bodies may be handed over with their socket
        self.upload_window = upload_window
        self.fetches: dict[int, Fetch] = {}
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            header_bytes.install(aiohttp.http_writer)  # header bytes 0x80-0xFF as they are
            connector = aiohttp.TCPConnector(
                limit=256, ttl_dns_cache=10, socket_factory=self.policy.socket_factory,
            )
            connector._factory = functools.partial(_upstream_handler(),  # see there
                                                   loop=asyncio.get_running_loop(),
                                                   record=self.relay)
            self._session = aiohttp.ClientSession(
                connector=connector,
                skip_auto_headers=("User-Agent",),
                timeout=aiohttp.ClientTimeout(total=None, connect=30, sock_connect=30),
                auto_decompress=False,
                max_field_size=MAX_HEADER_SIZE,  # the total is checked on each response
            )
        return self._session

    # -- events to JavaScript (kinds in bridge.py) ------------------------------------------

    def emit_head(self, fid: int, status: int, reason: str, headers: list[str], url: str,
                  redirected: bool, coding: str) -> None:
        self.emit([EV_FETCH_HEAD, fid, status, reason, headers, url, redirected, coding], None)

    def emit_data(self, fid: int, data: bytes) -> None:
        self.emit([EV_FETCH_DATA, fid], data)

    def emit_end(self, fid: int) -> None:
        self.emit([EV_FETCH_END, fid], None)

    def emit_error(self, fid: int, message: str) -> None:
        self.emit([EV_FETCH_ERROR, fid, message], None)

    def emit_upload_credit(self, fid: int, size: int) -> None:
        self.emit([EV_FETCH_CREDIT, fid, size], None)

    # -- actions from JavaScript ------------------------------------------------------------

    def start(self, fid: int, method: str, url: str, headers: list[str], body: Any,
              length: int, redirect: str, upload: Upload | None = None) -> Fetch:
        pairs = [[headers[i], headers[i + 1]] for i in range(0, len(headers), 2)]
        fetch = Fetch(self, fid, method, url, pairs, body, length, redirect)
        if body is not None:
            if upload is None:
                upload = Upload(lambda n: self.emit_upload_credit(fid, n))
                self.emit_upload_credit(fid, self.upload_window)
            fetch.upload = upload
        self.fetches[fid] = fetch
        fetch.task = asyncio.get_running_loop().create_task(fetch.run())
        return fetch

    def upload_data(self, fid: int, data: memoryview) -> None:
        fetch = self.fetches.get(fid)
        if fetch is not None and fetch.upload is not None:
            fetch.upload.feed(bytes(data))

    def upload_end(self, fid: int) -> None:
        fetch = self.fetches.get(fid)
        if fetch is not None and fetch.upload is not None:
            fetch.upload.end()

    def grant(self, fid: int, size: int) -> None:
        fetch = self.fetches.get(fid)
        if fetch is not None:
            fetch.credit.grant(size)

    def abort(self, fid: int) -> None:
        fetch = self.fetches.pop(fid, None)
        if fetch is not None and fetch.task is not None:
            fetch.task.cancel()

    def forward(self, fid: int, target: ForwardTarget) -> bool:
        """Send fetch ``fid``'s body to ``target`` instead of JavaScript."""
        fetch = self.fetches.get(fid)
        if fetch is None:
            return False
        fetch.forward = target
        if not fetch.forward_ready.done():
            fetch.forward_ready.set_result(None)
        return True

    async def close(self) -> None:
        for fetch in list(self.fetches.values()):
            if fetch.task is not None:
                fetch.task.cancel()
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
