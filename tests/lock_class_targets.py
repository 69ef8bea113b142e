"""A workload that treats ``threading.Lock`` as the class it is from Python 3.13 on: in an
annotation evaluated at import, in a union, and in ``isinstance`` (imported by path in children).

No ``from __future__ import annotations`` on purpose: the annotations are evaluated when the
module is imported, as in user code written for 3.13.
"""

import dataclasses
import threading

MaybeLock = threading.Lock | None


@dataclasses.dataclass
class Account:
    """A balance guarded by a lock of its own."""

    balance: int = 0
    lock: threading.Lock = dataclasses.field(
        default_factory=lambda: threading.Lock()  # noqa: PLW0108  # lock-site: account
    )


ACCOUNT = Account()


def deposit(lock: MaybeLock = None) -> int:
    """Adds one under the account's lock, refusing anything that is not a ``threading.Lock``."""
    lock = ACCOUNT.lock if lock is None else lock
    if not isinstance(lock, threading.Lock):
        raise TypeError(f"not a threading.Lock: {lock!r}")
    with lock:
        ACCOUNT.balance += 1
        return ACCOUNT.balance
