"""``python -m swarmyard.cli``: the same as the ``swarmyard`` script."""

from .main import run

run()
