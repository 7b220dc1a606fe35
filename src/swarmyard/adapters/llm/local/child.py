"""The local model server's process: llama.cpp's own OpenAI-compatible
server (`python -m llama_cpp.server`), which exits when its parent does.

The supervisor keeps this process's stdin open; it closes when the
supervisor stops the child or when the platform dies without a chance to
(kill -9, a crash). A thread waits for that end of file, so no orphaned
server keeps a model loaded after the platform is gone.

    python -m swarmyard.adapters.llm.local.child --model FILE --host 127.0.0.1 --port P …

Every argument is llama_cpp.server's own.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading

# llama_cpp.server reads these from the environment over its arguments: a
# variable meant for another program must not move it to another address.
_OVERRIDING_VARIABLES = ("HOST", "PORT", "CONFIG_FILE")


def _exit_when_parent_goes() -> None:
    sys.stdin.buffer.read()
    os._exit(0)


def main() -> None:
    for name in _OVERRIDING_VARIABLES:
        os.environ.pop(name, None)
    threading.Thread(target=_exit_when_parent_goes, name="parent-watch", daemon=True).start()
    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
