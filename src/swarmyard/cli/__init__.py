"""The ``swarmyard`` command line: an HTTP client of a Swarmyard server.

`main.app` is the Typer application and `main.run` the script's entry
point. Only ``serve`` runs server code in-process; everything else talks to
``/api/v1`` of the server named by ``--url``.
"""
