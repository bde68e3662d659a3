"""Speed and memory benchmarks for the framing classifier (`make bench`).

Run with ``python -m benchmarks.run`` from the repository root. Nothing here is
a test: the numbers describe this machine on this day, and they are written to
``benchmarks/results/`` for people to read, not asserted on.
"""
