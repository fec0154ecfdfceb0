"""Models of live teaching: help queue, activity timeline, AI transcripts."""

from __future__ import annotations
