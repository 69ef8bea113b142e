"""The loopback services the client workloads call, each in a process of its own.

``running_services(names)`` starts one process per service of ``workloads.SERVICES`` named,
puts each one's port in its environment variable (trial processes inherit it), and on the way
out, whatever happened, unsets the variables and stops and reaps every process. ``serve`` is
the service itself: an asyncio server on 127.0.0.1 that answers each request after its delay,
with at most ``limit`` requests in their delay at once; beyond that, a request waits for a
free slot ("queue") or is answered ``busy`` at once ("refuse").
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import Connection

from workloads import BUSY, OK, SERVICES, Service

#: Seconds a service process may take to start and send its port: a fresh interpreter that
#: imports asyncio starts in well under a second; 30 s leaves room for a busy machine.
START_TIMEOUT_S = 30.0
#: Seconds a terminated service gets to exit before it is killed.
STOP_TIMEOUT_S = 5.0
#: Connections the listening socket queues: more than any pool the grids measure (256).
BACKLOG = 1024


@contextmanager
def running_services(names: Sequence[str]) -> Iterator[dict[str, int]]:
    """Start the services ``names``; yield their ports by name, with the variables set."""
    with ExitStack() as stack:
        ports: dict[str, int] = {}
        for name in dict.fromkeys(names):
            service = SERVICES[name]
            ports[name] = stack.enter_context(running_service(name, service))
            os.environ[service.env] = str(ports[name])
            stack.callback(os.environ.pop, service.env, None)
        yield ports


@contextmanager
def running_service(name: str, service: Service) -> Iterator[int]:
    """Start ``service`` in a process of its own; yield its port; stop and reap it."""
    context = multiprocessing.get_context("spawn")  # a clean interpreter, nothing inherited
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=serve,
        args=(sender, service.limit, service.delay_s, service.policy),
        name=f"{name}-service",
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(START_TIMEOUT_S):
            raise RuntimeError(f"the {name} service did not start within {START_TIMEOUT_S:g} s")
        try:
            port = int(receiver.recv())
        except EOFError:
            process.join(STOP_TIMEOUT_S)
            raise RuntimeError(
                f"the {name} service exited at start (exit code {process.exitcode})"
            ) from None
        yield port
    finally:
        receiver.close()
        process.terminate()
        process.join(STOP_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join()


def serve(port_sender: Connection, limit: int, delay_s: float, policy: str = "queue") -> None:
    """Run one loopback service until terminated; sends its port through ``port_sender``.

    Any number of connections are accepted; each carries one request line and gets ``ok``
    back after ``delay_s`` of sleep, with at most ``limit`` requests in their sleep at once.
    The caller runs this in a process of its own, so that it competes with nothing measured
    for the GIL; that process ignores Ctrl-C, which the caller handles by terminating it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_serve(port_sender, limit, delay_s, policy == "refuse"))


async def _serve(port_sender: Connection, limit: int, delay_s: float, refuse: bool) -> None:
    slots = asyncio.Semaphore(limit)
    in_flight = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight
        try:
            await reader.readline()
            if refuse and in_flight >= limit:
                writer.write(BUSY)
            else:
                in_flight += 1
                try:
                    async with slots:
                        await asyncio.sleep(delay_s)
                finally:
                    in_flight -= 1
                writer.write(OK)
            await writer.drain()
        except OSError:  # the client went away (a trial stopped at its timeout)
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=BACKLOG)
    port_sender.send(server.sockets[0].getsockname()[1])
    port_sender.close()
    async with server:
        await server.serve_forever()
