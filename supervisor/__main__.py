"""``python -m isoflow.supervisor`` is the ``isoflow`` command."""

from .cli import main

main()
