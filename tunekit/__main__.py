"""``python -m tunekit``: the same entry point as the ``tunekit`` console script."""

from __future__ import annotations

import sys

from tunekit.frontends.cli import main

if __name__ == "__main__":
    sys.exit(main())
