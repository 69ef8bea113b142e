"""A fork server for isolated children: ``python -m tunekit.zygote``.

A fresh interpreter that imports tunekit costs a child about 0.15 s, and an analysis starts
twenty or more children. The zygote pays that once: it imports tunekit and its plugins (never
the user's code), then forks one child per request. The child runs exactly what
``python -m tunekit.worker REQUEST RESULT`` would, in a session of its own, with its output in
its own file: as isolated as a fresh interpreter, minus the start-up.

Protocol, one JSON object per line. The zygote says ``{"ready": true}`` once warm. The parent
writes ``{"argv": [REQUEST, RESULT], "output": LOG}``; the zygote answers ``{"pid": N}`` when the
child is forked and ``{"exit": CODE}`` when it has reaped it (CODE < 0: killed by signal -CODE,
as in ``subprocess``). One child at a time; end of input ends the zygote.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any, NoReturn

from tunekit import worker
from tunekit.plugins import collect_backends, collect_probes, get_plugin_manager


def serve() -> None:
    """Warm up, then fork a child for every request read from stdin until it closes."""
    worker.die_with_parent()
    manager = get_plugin_manager()  # import every plugin now, once for all children
    collect_backends(manager)
    collect_probes(manager)
    _reply({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        _reply({"pid": pid})
        _, status = os.waitpid(pid, 0)
        _reply({"exit": os.waitstatus_to_exitcode(status)})


def _child(request: dict[str, Any]) -> NoReturn:
    """In the forked child: detach, redirect the output, run the worker, exit."""
    code = 1
    try:
        os.setsid()  # its own process group, which the parent kills as a whole
        null = os.open(os.devnull, os.O_RDONLY)
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0)  # never the zygote's request pipe
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(null)
        os.close(output)
        sys.argv = [worker.__file__, *request["argv"]]
        code = worker.main(sys.argv)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # As in ``tunekit.worker``: no waiting for threads or atexit handlers the user left.
        os._exit(code)


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    serve()
