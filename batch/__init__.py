"""`framing-score`: batch scoring of corpora with the model's one prediction path.

Modules: ``cli`` (the command), ``inputs`` (streaming readers, bad records),
``outputs`` (crash-safe writers, resume), ``executors`` (in-process, local
processes or Dask).
"""
