"""CURVE key files of the remote link: make a keypair, load keys, the authorized keys.

Keys are ZeroMQ certificate files (the ZPL format of ``zmq.auth``, keys in Z85):
``isoflow keygen NAME`` writes ``NAME.key`` (public: copy it to the other side) and
``NAME.key_secret`` (mode 0600: never leaves its host). The config check (``config.py``),
the supervisor's link (``remote.py``) and ``isoflow worker`` (``cli.py``) read them here.
"""

from __future__ import annotations

import os
from pathlib import Path


class KeyFileError(ValueError):
    """A key file is missing, unreadable or not a ZeroMQ certificate."""


def keygen(directory: Path, name: str) -> tuple[Path, Path]:
    """Write a new CURVE keypair: ``NAME.key`` (public) and ``NAME.key_secret`` (0600)."""
    directory.mkdir(parents=True, exist_ok=True)
    public = directory / f"{name}.key"
    secret = directory / f"{name}.key_secret"
    for path in (public, secret):
        if path.exists():
            raise FileExistsError(f"{path} exists; not overwriting a key")
    import zmq.auth  # here: its import costs the start of every service ~20 ms

    old = os.umask(0o077)
    try:
        zmq.auth.create_certificates(directory, name)
    finally:
        os.umask(old)
    public.chmod(0o644)
    secret.chmod(0o600)
    return public, secret


def _load(path: Path) -> tuple[bytes, bytes | None]:
    if path.exists() and not path.is_file():  # a FIFO would block, a device never end
        raise KeyFileError(f"{path}: not a regular file")
    import zmq.auth  # here: its import costs the start of every service ~20 ms

    try:
        public, secret = zmq.auth.load_certificate(path)
    except OSError as e:
        raise KeyFileError(f"{path}: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError):
        raise KeyFileError(f"{path}: not a ZeroMQ certificate (make one with "
                           "`isoflow keygen NAME`)") from None
    for key in (public, secret):
        if key is not None and len(key) != 40:
            raise KeyFileError(f"{path}: a key must be 40 Z85 characters")
    return public, secret


def load_keypair(path: Path) -> tuple[bytes, bytes]:
    """(public, secret) in Z85 from a ``.key_secret`` file."""
    public, secret = _load(path)
    if not secret:
        raise KeyFileError(f"{path}: holds no secret key (give the .key_secret file)")
    return public, secret


def load_public_key(path: Path) -> bytes:
    """The public key (Z85) from a ``.key`` (or ``.key_secret``) file."""
    return _load(path)[0]


def load_authorized(path: Path) -> dict[bytes, str]:
    """The public keys allowed in: every ``*.key`` in a directory, or one file; Z85 -> name."""
    if path.is_dir():
        files = sorted(path.glob("*.key"))
    elif path.exists():
        files = [path]
    else:
        raise KeyFileError(f"{path}: no such file or directory")
    keys: dict[bytes, str] = {}
    for file in files:
        keys[load_public_key(file)] = file.stem
    return keys
