"""Session fixtures of the voices package (real models, loaded once)."""

from __future__ import annotations
