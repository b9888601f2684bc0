"""Model families by name (``config.method``); see :mod:`jaxgan.method` for the seam.

A new family is one module defining its ``METHOD`` and one registration here."""

from __future__ import annotations

from jaxgan import gan, pixelcnn, vae
from jaxgan.method import Method
from jaxgan.registry import Registry

METHODS: Registry[Method] = Registry("method")
METHODS.register("gan")(gan.METHOD)
METHODS.register("vae")(vae.METHOD)
METHODS.register("pixelcnn")(pixelcnn.METHOD)
