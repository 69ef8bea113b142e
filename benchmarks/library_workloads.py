"""Workloads that run real library code, for the accuracy benchmark: xml parsing, zlib, pickle,
csv and a numpy reduction (``workloads.py`` re-exports them, so they are ``workloads.py:NAME``
targets).

Each input is built once per process (``functools.cache``) from a fixed seed, so every worker
of every pool works on the same bytes. Each docstring says what the right answer is and the
measurement on the benchmark's 2-core machine that says so.
"""

from __future__ import annotations

import csv
import functools
import io
import pickle
import random
import xml.etree.ElementTree as ET
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


#: Items of the ``xml_parse`` document (229 kB): 6.8 ms a parse on the 2-core machine.
XML_ITEMS = 2000


@functools.cache
def _catalog() -> bytes:
    items = "".join(
        f'<item id="{i}" kind="k{i % 7}"><name>item {i}</name><price>{i * 1.5:.2f}</price>'
        f"<tags><tag>a{i % 3}</tag><tag>b{i % 5}</tag></tags></item>"
        for i in range(XML_ITEMS)
    )
    return f"<catalog>{items}</catalog>".encode()


def xml_parse() -> float:
    """Parse a 229 kB XML catalog with ``xml.etree.ElementTree`` and sum its prices (6.8 ms).

    Right answer: process x2. The C parser calls back into the tree builder under the GIL:
    2 threads ran it 0.99x as fast as one.
    """
    root = ET.fromstring(_catalog())
    return sum(float(price.text or 0) for price in root.iter("price"))


#: Bytes of text ``zlib_compress`` compresses: 8.6 ms at level 6 on the 2-core machine.
TEXT_BYTES = 128 * 1024


@functools.cache
def _text() -> bytes:
    rng = random.Random(13)  # the same text in every process
    words = ["".join(rng.choices("abcdefghij", k=rng.randint(3, 9))) for _ in range(5000)]
    text = " ".join(rng.choices(words, k=TEXT_BYTES // 5)).encode()
    return text[:TEXT_BYTES]


def zlib_compress() -> int:
    """``zlib.compress`` of 128 KiB of text at level 6 (8.6 ms); returns the length.

    Right answer: thread x2. zlib releases the GIL while it deflates (2 threads ran it 2.0x
    as fast as one), so threads use both cores as well as processes do, and cost less.
    """
    return len(zlib.compress(_text(), 6))


#: Records of ``pickle_roundtrip``: 7 ms a round-trip on the 2-core machine.
RECORDS = 3000


@functools.cache
def _records() -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "name": f"n{i}",
            "tags": [f"t{j}" for j in range(5)],
            "position": (i * 0.5, i * 1.5),
            "nested": {"values": [i, i + 1, {"label": str(i)}]},
        }
        for i in range(RECORDS)
    ]


def pickle_roundtrip() -> int:
    """``pickle.dumps`` then ``pickle.loads`` of 3,000 nested records (7 ms).

    Right answer: process x2. Pickling holds the GIL: 2 threads ran it at 0.69x.
    """
    return len(pickle.loads(pickle.dumps(_records(), protocol=pickle.HIGHEST_PROTOCOL)))


#: Rows of ``csv_parse``: 3.8 ms a parse on the 2-core machine.
CSV_ROWS = 6000


@functools.cache
def _table() -> str:
    return "\n".join(
        f"{i},name{i},{i * 0.25:.2f},{'x' * (i % 10)},{i % 17}" for i in range(CSV_ROWS)
    )


def csv_parse() -> float:
    """``csv.reader`` over 6,000 rows, summing two numeric columns (3.8 ms).

    Right answer: process x2: the reader and the conversions hold the GIL (2 threads: 1.09x).
    """
    return sum(float(row[2]) + int(row[4]) for row in csv.reader(io.StringIO(_table())))


#: Shape of the array ``numpy_reduce`` reduces (float64, 1.6 MB): 6.8 ms on the 2-core
#: machine. A reduction that computes (log-sum-exp), not one that streams memory: the sum of
#: the square roots of 4 million float32 values measured 1.0x to 1.9x with 2 threads from one
#: minute to the next on a shared machine, as memory bandwidth came and went.
NUMPY_SHAPE = (200, 1000)


@functools.cache
def _values() -> np.ndarray[Any, np.dtype[np.float64]]:
    import numpy as np  # here, so that the other workloads' processes do not import it

    return np.random.default_rng(13).random(NUMPY_SHAPE)


def numpy_reduce() -> float:
    """The log-sum-exp of each row of a 200 x 1000 array with ``np.logaddexp.reduce``
    (6.8 ms).

    Right answer: thread x2. numpy releases the GIL in its loops (2 threads ran it 1.95-2.06x
    as fast as one), so threads use both cores as well as processes do, and cost less.
    """
    import numpy as np

    return float(np.logaddexp.reduce(_values(), axis=1).sum())


LIBRARY_WORKLOADS = ("xml_parse", "zlib_compress", "pickle_roundtrip", "csv_parse", "numpy_reduce")
