"""Advice from measurements: pure functions, no I/O and no clock.

``classify`` names the kind of work a task is, ``recommend`` chooses the model and pool size,
``locks`` advises on each lock, ``scaling`` fits the Universal Scalability Law; ``rules`` holds
the judging rules (knee, ties, cost of a model) that the sweep planner shares.
"""
