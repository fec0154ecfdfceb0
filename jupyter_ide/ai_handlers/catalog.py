"""The models behind wildcard routes: each upstream's own list, fetched once, then refreshed."""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import time

from .errors import AIError
from .providers import Provider
from .routing import Router, is_glob

log = logging.getLogger(__name__)


class ModelCatalog:
    """Name the models a wildcard route (`*`, `gemini-*`) reaches, as its upstream lists them.

    A list is kept ``seconds`` long; after that the old list is still answered while a new
    one is fetched in the background. An upstream that cannot list is asked again only after
    ``retry_seconds``.
    """

    def __init__(
        self,
        router: Router,
        providers: dict[str, Provider],
        seconds: float,
        retry_seconds: float = 30.0,
    ) -> None:
        """List through ``providers`` for the patterns of ``router``."""
        self.router = router
        self.providers = providers
        self.seconds = seconds
        self.retry_seconds = retry_seconds
        self._lists: dict[str, tuple[list[str], float]] = {}  # provider -> (names, fetched)
        self._failed: dict[str, float] = {}  # provider -> when listing last failed
        self._fetching: dict[str, asyncio.Task[list[str] | None]] = {}

    async def names(self) -> list[str]:
        """Return the model names wildcard routes reach now (routed and allowed)."""
        found: set[str] = set()
        for pattern, entries in self.router.settings.routes.items():
            if not is_glob(pattern):
                continue
            listed = await self._first_list(entries)
            found.update(n for n in listed if fnmatch.fnmatchcase(n, pattern))
        return sorted(n for n in found if self.router.routes(n) and self.router.allowed(n))

    async def _first_list(self, entries: list[str]) -> list[str]:
        """Return the list of the first route that has one (requests try that route first)."""
        for entry in entries:
            provider_name, _, upstream = entry.partition(":")
            provider = self.providers.get(provider_name)
            if upstream or provider is None:
                continue  # a route to one fixed model names no model of its own
            if provider.needs_key and not provider.institution_key:
                continue
            listed = await self._list(provider)
            if listed is not None:
                return listed
        return []

    async def _list(self, provider: Provider) -> list[str] | None:
        """Return the provider's list (fetching it when there is none yet), or None."""
        now = time.monotonic()
        kept = self._lists.get(provider.name)
        if kept is not None:
            if now - kept[1] >= self.seconds:
                self._fetch(provider)  # answer the old list meanwhile
            return kept[0]
        failed = self._failed.get(provider.name)
        if failed is not None and now - failed < self.retry_seconds:
            return None
        return await asyncio.shield(self._fetch(provider))

    def _fetch(self, provider: Provider) -> asyncio.Task[list[str] | None]:
        """Start fetching the provider's list, or return the fetch already under way."""
        task = self._fetching.get(provider.name)
        if task is None or task.done():
            task = asyncio.create_task(self._fetch_now(provider))
            self._fetching[provider.name] = task
        return task

    async def _fetch_now(self, provider: Provider) -> list[str] | None:
        """Fetch and keep the provider's list; on failure keep the old one and note when."""
        try:
            names = await provider.list_models()
        except AIError as e:
            log.warning("AI: %s did not list its models: %s", provider.name, e)
            self._failed[provider.name] = time.monotonic()
            kept = self._lists.get(provider.name)
            if kept is not None:  # try again after retry_seconds, not on every request
                again = time.monotonic() - self.seconds + self.retry_seconds
                self._lists[provider.name] = (kept[0], again)
            return kept[0] if kept else None
        self._lists[provider.name] = (names, time.monotonic())
        self._failed.pop(provider.name, None)
        return names

    async def aclose(self) -> None:
        """Wait for fetches under way."""
        for task in list(self._fetching.values()):
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._fetching.values(), return_exceptions=True)
