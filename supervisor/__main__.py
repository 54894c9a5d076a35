"""``python -m isoflow.supervisor`` is the ``isoflow`` command."""

from .early import run

run()
