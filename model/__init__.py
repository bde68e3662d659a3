"""The prediction path shared by training, the HTTP API and the batch scorer."""
