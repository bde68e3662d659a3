"""The labeling loop: a database of documents, sentences and labels, queues, agreement, `framing-label`."""
