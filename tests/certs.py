"""A throwaway TLS certificate, for the tests and the benches (no pytest needed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["make_cert"]


def make_cert(directory: Path, cert: str = "cert.pem", key: str = "key.pem") -> None:
    """A fresh self-signed certificate for 127.0.0.1 (needs the openssl command)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(directory / key), "-out", str(directory / cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
