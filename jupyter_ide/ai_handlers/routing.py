"""The routing table: public model names -> provider routes, and the admin's model lists."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from .settings import AISettings

PROVIDER_NAMES = ("pool", "openai", "gemini")


@dataclass(frozen=True)
class Route:
    """One way to serve a model: a provider and the model name it knows."""

    provider: str
    model: str


def is_glob(name: str) -> bool:
    """Return True when ``name`` is a pattern rather than one model."""
    return any(c in name for c in "*?[")


class Router:
    """Find the routes of a model and say whether the administrator allows it."""

    def __init__(self, settings: AISettings) -> None:
        """Read the table and lists from ``settings``; refuse unknown providers."""
        self.settings = settings
        for name, routes in settings.routes.items():
            for route in routes:
                provider = route.split(":", 1)[0]
                if provider not in PROVIDER_NAMES:
                    raise ValueError(
                        f"AISettings.routes[{name!r}] names {provider!r}: providers are "
                        f"{', '.join(PROVIDER_NAMES)}"
                    )
        # Exact names first, then the most specific patterns ('*' last).
        self._patterns = sorted(
            (n for n in settings.routes if is_glob(n)), key=lambda n: (-len(n.strip("*")), n)
        )

    def routes(self, model: str) -> list[Route]:
        """Return the routes for ``model``, best first (empty: not served)."""
        table = self.settings.routes
        entries = table.get(model)
        if entries is None:
            pattern = next((p for p in self._patterns if fnmatch.fnmatchcase(model, p)), None)
            entries = table[pattern] if pattern else []
        found = []
        for entry in entries:
            provider, _, upstream = entry.partition(":")
            found.append(Route(provider, upstream or model))
        return found

    def allowed(self, model: str) -> bool:
        """Return True unless the admin lists block ``model``."""
        if any(fnmatch.fnmatchcase(model, p) for p in self.settings.blocked_models):
            return False
        allowed = self.settings.allowed_models
        return not allowed or any(fnmatch.fnmatchcase(model, p) for p in allowed)

    def public_models(self) -> list[str]:
        """Return the named models (routes' and the allow list's) that are routed and allowed."""
        names = {n for n in self.settings.routes if not is_glob(n)}
        names |= {n for n in self.settings.allowed_models if not is_glob(n)}
        return sorted(n for n in names if self.routes(n) and self.allowed(n))
