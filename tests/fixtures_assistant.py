"""Session fixtures of the assistant package (real models, loaded once)."""

from __future__ import annotations
