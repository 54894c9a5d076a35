"""Routing: which script serves a request, from its host and path. The one place it is decided.

A route names a host pattern, a path prefix and a script. The most specific route that
matches both the host and the path serves the request; specificity is the host first, the
path second:

* host: an exact name (``api.example.com``) beats a wildcard (``*.example.com``, the
  longest suffix first), which beats ``*`` (any host). The request's port is ignored and
  names compare case-insensitively.
* path: among routes of equally specific hosts, the longest matching prefix wins. A
  prefix matches on segment boundaries: ``/api`` matches ``/api`` and ``/api/users`` but
  not ``/apis``; a prefix ending in ``/`` matches everything below it.

A request whose host matches a route but whose path does not falls through to less
specific hosts (``api.example.com/api`` then ``*/``), as Cloudflare's route patterns do.
Routes of equal rank keep their order in the config file (the first one wins).

The path matched is the request's, percent-decoded, with its dot segments resolved as the
script's ``request.url`` resolves them (:func:`resolved_path`): ``/x/../admin`` and
``/x/%2e%2e/admin`` are ``/admin`` to the router as to the script, so no prefix can be
stepped around.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    name: str
    script: str
    host: str = "*"
    path: str = "/"
    wall_time: float | None = None  # overrides the script's limits.wall_time


def host_rank(pattern: str) -> tuple[int, int]:
    """Sort key, highest first: exact names, then wildcards by suffix length, then ``*``."""
    if pattern == "*":
        return (0, 0)
    if pattern.startswith("*."):
        return (1, len(pattern))
    return (2, len(pattern))


def host_matches(pattern: str, host: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def resolved_path(path: str) -> str:
    """A decoded request path with its dot segments removed as the URL standard's path
    parser removes them for http(s): ``\\`` separates segments like ``/``, a ``.`` segment
    goes, a ``..`` segment takes the one before it with it, and either one last leaves a
    trailing ``/``. (``%2e`` is a dot to that parser: it is decoded here already.)"""
    if ("." not in path and "\\" not in path) or path[:1] != "/":
        return path
    parts = path.replace("\\", "/").split("/")[1:]
    out: list[str] = []
    last = len(parts) - 1
    for i, segment in enumerate(parts):
        if segment == "..":
            if out:
                out.pop()
            if i == last:
                out.append("")
        elif segment == ".":
            if i == last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def path_matches(prefix: str, path: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix) or path == prefix[:-1]
    return path == prefix or path.startswith(prefix + "/")


def normalize_host(host: str) -> str:
    """``Example.COM:8080`` -> ``example.com``; ``[::1]:80`` -> ``[::1]``."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end >= 0 else host
    name, _, _port = host.partition(":")
    return name.rstrip(".")


_SEEN_MAX = 4096  # (Host, path) pairs whose route Router.match keeps


class Router:
    """The routing table: ``match(host, path)`` -> the route that serves it, or None."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = list(routes)
        indexed = list(enumerate(self.routes))
        # Highest host rank first, then longest path prefix, then file order.
        indexed.sort(key=lambda ir: (host_rank(ir[1].host), len(ir[1].path), -ir[0]),
                     reverse=True)
        self._ordered = [r for _, r in indexed]
        self._seen: dict[tuple[str, str], Route | None] = {}  # match's answers, bounded

    def match(self, host: str, path: str) -> Route | None:
        """The route for a request: ``path`` is its decoded path (aiohttp's
        ``request.path``), resolved here. The answers for the latest few thousand
        (Host, path) pairs are kept (a repeated one costs a lookup, not the search)."""
        key = (host, path)
        seen = self._seen
        if key in seen:
            return seen[key]
        if len(seen) >= _SEEN_MAX:
            seen.clear()
        route = seen[key] = self._search(host, path)
        return route

    def _search(self, host: str, path: str) -> Route | None:
        host = normalize_host(host)
        path = resolved_path(path)
        for route in self._ordered:
            if host_matches(route.host, host) and path_matches(route.path, path):
                return route
        return None

    @property
    def scripts(self) -> set[str]:
        return {route.script for route in self.routes}
