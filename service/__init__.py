"""The HTTP API, its web page and the batch scorer."""
