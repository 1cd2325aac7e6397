"""Session fixtures of the knowledge_base package (real models, loaded once)."""

from __future__ import annotations
