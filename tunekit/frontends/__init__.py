"""The ways in, thin over ``tunekit.analyze()``: the ``tunekit`` command (``cli``), the Python
API (``api``), ``@tunekit.profile`` (``decorator``), the pytest plugin, ``compare`` and the live
progress line."""
