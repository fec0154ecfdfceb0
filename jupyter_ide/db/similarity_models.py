"""Models of similarity checks: runs over an assignment's submissions and their pairs."""

from __future__ import annotations
