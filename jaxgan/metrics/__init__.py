"""Metrics on generated samples; each reports the protocol it was computed with."""
