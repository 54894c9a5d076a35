"""Where each key of a TOML document is: ``tomllib`` gives values, not line numbers.

:func:`key_lines` scans a document that ``tomllib`` has already accepted and maps every
key path to the line it is defined on. A path is a tuple of keys and array indexes, as
one would index the parsed data: ``("routes", 1, "script")`` for the ``script`` key of the
second ``[[routes]]`` table, ``("env", 0)`` for the first element of an ``env`` array.
Tables are at their header's line (or the line of their first dotted key); array
elements and inline-table keys at the line where they start.

The scanner understands exactly what it must skip to stay in step with the document:
strings of all four kinds (a ``#`` or ``[`` inside one is text), multi-line arrays,
inline tables, comments, dotted and quoted keys. It does not check anything: that is
``tomllib``'s job, done before.
"""

from __future__ import annotations

import bisect
import re
import tomllib

KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}\n#]")


class _Scanner:
    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.lines: dict[KeyPath, int] = {(): 1}
        self.array_tables: dict[KeyPath, int] = {}  # [[x]] path -> elements seen

    # -- helpers --------------------------------------------------------------------------

    def line(self, pos: int | None = None) -> int:
        return bisect.bisect_right(self.line_starts, self.i if pos is None else pos)

    def peek(self, text: str) -> bool:
        return self.s.startswith(text, self.i)

    def skip_space(self, newlines: bool = False) -> None:
        """Skip blanks, and with ``newlines`` also line breaks and comments."""
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.i += 1
            elif newlines and c == "#":
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end
            else:
                break

    def skip_line(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = len(self.s) if end < 0 else end + 1

    def record(self, path: KeyPath, line: int) -> None:
        self.lines.setdefault(path, line)

    # -- keys ----------------------------------------------------------------------------

    def key(self) -> list[str]:
        """A dotted key, unquoted, e.g. ``a."b.c".d`` -> ``["a", "b.c", "d"]``."""
        parts = []
        while True:
            self.skip_space()
            c = self.s[self.i]
            if c in "\"'":
                start = self.i
                self.string()
                parts.append(tomllib.loads("k = " + self.s[start : self.i])["k"])
            else:
                m = _BARE_KEY.match(self.s, self.i)
                if m is None:
                    raise ValueError(f"no key at line {self.line()}")
                parts.append(m.group())
                self.i = m.end()
            self.skip_space()
            if self.peek("."):
                self.i += 1
                continue
            return parts

    def resolve(self, keys: list[str]) -> KeyPath:
        """A header's keys as a path: arrays of tables contribute their last element."""
        path: KeyPath = ()
        for k in keys:
            path = (*path, k)
            count = self.array_tables.get(path)
            if count is not None:
                path = (*path, count - 1)
        return path

    # -- values --------------------------------------------------------------------------

    def string(self) -> None:
        s = self.s
        quote = s[self.i]
        if s.startswith(quote * 3, self.i):
            self.i += 3
            while True:
                if quote == '"' and s[self.i] == "\\":
                    self.i += 2
                    continue
                if s.startswith(quote * 3, self.i):
                    run = 3
                    while run < 5 and self.i + run < len(s) and s[self.i + run] == quote:
                        run += 1
                    self.i += run
                    return
                self.i += 1
        self.i += 1
        while s[self.i] != quote:
            self.i += 2 if quote == '"' and s[self.i] == "\\" else 1
        self.i += 1

    def value(self, path: KeyPath) -> None:
        self.skip_space()
        c = self.s[self.i]
        if c in "\"'":
            self.string()
        elif c == "[":
            self.i += 1
            index = 0
            while True:
                self.skip_space(newlines=True)
                if self.peek("]"):
                    self.i += 1
                    return
                self.record((*path, index), self.line())
                self.value((*path, index))
                self.skip_space(newlines=True)
                if self.peek(","):
                    self.i += 1
                index += 1
        elif c == "{":
            self.i += 1
            while True:
                self.skip_space()
                if self.peek("}"):
                    self.i += 1
                    return
                if self.peek(","):
                    self.i += 1
                    continue
                self.key_value(path)
        else:
            m = _SCALAR_END.search(self.s, self.i)
            self.i = len(self.s) if m is None else m.start()

    def key_value(self, table: KeyPath) -> None:
        line = self.line()
        keys = self.key()
        for n in range(1, len(keys) + 1):
            self.record((*table, *keys[:n]), line)
        self.skip_space()
        if not self.peek("="):
            raise ValueError(f"expected '=' at line {line}")
        self.i += 1
        self.value((*table, *keys))

    # -- the document --------------------------------------------------------------------

    def document(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        while True:
            self.skip_space(newlines=True)
            if self.i >= len(self.s):
                return self.lines
            line = self.line()
            if self.peek("[["):
                self.i += 2
                keys = self.key()
                self.i += 2  # ]]
                parent = self.resolve(keys[:-1])
                array = (*parent, keys[-1])
                count = self.array_tables.get(array, 0) + 1
                self.array_tables[array] = count
                table = (*array, count - 1)
                self.record(array, line)
                self.record(table, line)
            elif self.peek("["):
                self.i += 1
                keys = self.key()
                self.i += 1  # ]
                table = self.resolve(keys)
                for n in range(1, len(table) + 1):
                    self.record(table[:n], line)
            else:
                self.key_value(table)
            self.skip_line()  # the rest is blank or a comment


def key_lines(source: str) -> dict[KeyPath, int]:
    """Every key path in ``source`` (valid TOML) -> its 1-based line number."""
    return _Scanner(source).document()


class Locator:
    """Line numbers for key paths; a path that is not in the file gets its nearest parent's."""

    def __init__(self, source: str) -> None:
        self.lines = key_lines(source)

    def line(self, path: KeyPath) -> int:
        while path not in self.lines:
            path = path[:-1]
        return self.lines[path]
