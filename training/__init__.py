"""Corpus validation, training and evaluation of the framing model."""
