"""A fork server for isolated children: ``python -m tunekit.isolation.zygote``.

A fresh interpreter that imports tunekit costs a child about 0.15 s, and an analysis starts
twenty or more children. The zygote pays that once: it imports tunekit and its plugins (never
the user's code), then forks one child per request. The child runs exactly what
``python -m tunekit.isolation.worker REQUEST RESULT`` would, in a session of its own, with its
output in its own file: as isolated as a fresh interpreter, minus the start-up.

Protocol, one JSON object per line. The zygote says ``{"ready": true}`` once warm. The parent
writes ``{"argv": [REQUEST, RESULT], "output": LOG}``; the zygote answers ``{"pid": N}`` when the
child is forked and ``{"exit": CODE}`` when it has exited (CODE < 0: killed by signal -CODE, as
in ``subprocess``), but reaps it only when the parent writes ``{"reap": N}``: until then the
pid cannot be reused, so the parent's kills cannot hit another process. One child at a time;
end of input ends the zygote.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any, NoReturn, TextIO

from tunekit.isolation import worker
from tunekit.plugins import PluginManager, collect_backends, collect_probes, get_plugin_manager


def serve() -> None:
    """Warm up, then fork a child for every request read from stdin until it closes."""
    worker.die_with_parent()
    replies = os.fdopen(os.dup(1), "w")  # the protocol's own descriptor ...
    os.dup2(2, 1)  # ... so that a plugin printing as it is imported cannot break it
    manager = get_plugin_manager()  # import every plugin now, once for all children
    collect_backends(manager)
    collect_probes(manager)
    _reply(replies, {"ready": True})
    zygote = os.getpid()
    while line := sys.stdin.readline():
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request, zygote, replies.fileno(), manager)
        _reply(replies, {"pid": pid})
        # Wait without reaping: until the parent has killed what the child left in its
        # process group, the pid stays the child's and cannot be reused.
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        assert info is not None
        code = info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
        _reply(replies, {"exit": code})
        sys.stdin.readline()  # {"reap": pid}, or the end of input
        os.waitpid(pid, 0)


def _child(request: dict[str, Any], zygote: int, protocol: int, plugins: PluginManager) -> NoReturn:
    """In the forked child: detach, redirect the output, run the worker, exit."""
    code = 1
    try:
        worker.die_with_parent()
        if os.getppid() != zygote:  # the zygote died before the line above: so do we
            os._exit(1)
        os.close(protocol)
        os.setsid()  # its own process group, which the parent kills as a whole
        null = os.open(os.devnull, os.O_RDONLY)
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0)  # never the zygote's request pipe
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(null)
        os.close(output)
        sys.argv = [worker.__file__, *request["argv"]]
        code = worker.main(sys.argv, plugins)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # As in ``tunekit.isolation.worker``: no waiting for threads or atexit handlers left over.
        os._exit(code)


def _reply(replies: TextIO, message: dict[str, Any]) -> None:
    replies.write(json.dumps(message) + "\n")
    replies.flush()


if __name__ == "__main__":
    serve()
