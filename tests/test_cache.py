"""The cache on both backends: values, expiry and atomic counters."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from jupyter_ide.cache import Bounded, Cache, MemoryCache, RedisCache, make_cache

from .services import redis_url


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Cache:
    """Each test runs on the in-process backend and on Redis."""
    if request.param == "memory":
        return MemoryCache(prefix=f"test:{uuid.uuid4().hex}:")
    return request.getfixturevalue("redis_cache")  # type: ignore[no-any-return]


async def test_get_set_delete(cache: Cache) -> None:
    """Values are stored, read back as bytes and deleted."""
    assert await cache.get("k") is None
    await cache.set("k", b"\x00value")
    assert await cache.get("k") == b"\x00value"
    assert await cache.ttl("k") is None
    assert await cache.delete("k") is True
    assert await cache.delete("k") is False
    assert await cache.get("k") is None


async def test_values_expire(cache: Cache) -> None:
    """A value with a ttl is gone after it."""
    await cache.set("short", b"x", ttl=0.2)
    left = await cache.ttl("short")
    assert left is not None and 0 < left <= 0.2
    await asyncio.sleep(0.35)
    assert await cache.get("short") is None


async def test_incr_is_atomic_under_concurrency(cache: Cache) -> None:
    """200 concurrent increments give exactly 200."""
    results = await asyncio.gather(*(cache.incr("hits") for _ in range(200)))
    assert sorted(results) == list(range(1, 201))
    assert await cache.get("hits") == b"200"


async def test_incr_ttl_starts_a_fixed_window(cache: Cache) -> None:
    """The ttl is set when the counter is created and not pushed back by later increments."""
    assert await cache.incr("window", 5, ttl=0.3) == 5
    await asyncio.sleep(0.15)
    assert await cache.incr("window", 1, ttl=0.3) == 6
    await asyncio.sleep(0.25)
    assert await cache.incr("window", 1, ttl=0.3) == 1


async def test_incr_if_below_never_passes_the_limit(cache: Cache) -> None:
    """100 concurrent attempts to add 3 under a limit of 50 admit exactly 16."""
    outcomes = await asyncio.gather(
        *(cache.incr_if_below("quota", 3, 50, ttl=60) for _ in range(100))
    )
    admitted = [value for added, value in outcomes if added]
    assert len(admitted) == 16
    assert max(admitted) == 48
    assert await cache.get("quota") == b"48"
    assert await cache.incr_if_below("quota", 2, 50) == (True, 50)
    assert await cache.incr_if_below("quota", 1, 50) == (False, 50)


async def test_incr_all_if_below_adds_to_all_or_none(cache: Cache) -> None:
    """Counters grow together; when one would pass its limit none grows, and it is named."""
    both = [Bounded("minute", 1, 3, ttl=60), Bounded("day", 40, 100, ttl=60)]
    first = await cache.incr_all_if_below(both)
    assert (first.values, first.refused) == ([1, 40], None)
    second = await cache.incr_all_if_below(both)
    assert (second.values, second.refused) == ([2, 80], None)
    refused = await cache.incr_all_if_below(both)
    assert (refused.values, refused.refused) == ([80], 1)
    assert await cache.get("minute") == b"2"
    assert await cache.get("day") == b"80"
    left = await cache.ttl("day")
    assert left is not None and 0 < left <= 60
    assert (await cache.incr_all_if_below([])).values == []


async def test_incr_all_if_below_never_passes_any_limit(cache: Cache) -> None:
    """100 concurrent requests against two limits: exactly as many as the tighter allows."""
    counters = [Bounded("requests", 1, 20, ttl=60), Bounded("tokens", 7, 100, ttl=60)]
    outcomes = await asyncio.gather(*(cache.incr_all_if_below(counters) for _ in range(100)))
    admitted = [o for o in outcomes if o.refused is None]
    assert len(admitted) == 14  # 14 * 7 = 98 tokens; a 15th would pass 100
    assert {o.refused for o in outcomes if o.refused is not None} == {1}
    assert await cache.get("requests") == b"14"
    assert await cache.get("tokens") == b"98"


async def test_incr_each_adds_to_every_counter(cache: Cache) -> None:
    """One call adds to several counters; a ttl applies only to one that is new."""
    await cache.incr("old", 10)
    assert await cache.incr_each([("old", -4, 60), ("new", -4, 60)]) == [6, -4]
    assert await cache.ttl("old") is None
    left = await cache.ttl("new")
    assert left is not None and 0 < left <= 60
    assert await cache.incr_each([]) == []


async def test_prefixes_isolate(cache: Cache) -> None:
    """Two caches with different prefixes do not see each other's keys."""
    other = make_cache(
        redis_url() if isinstance(cache, RedisCache) else None, prefix=cache.prefix + "other:"
    )
    try:
        await cache.set("shared", b"mine")
        assert await other.get("shared") is None
    finally:
        await other.close()


async def test_unreachable_redis_is_a_clear_error() -> None:
    """PING to a Redis nobody runs raises instead of hanging."""
    cache = make_cache("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(Exception, match=r"(?i)connect"):
            await cache.ping()
    finally:
        await cache.close()


def test_factory_refuses_other_urls() -> None:
    """A URL that is not Redis's is a clear error."""
    with pytest.raises(ValueError, match="redis://"):
        make_cache("http://127.0.0.1:6379")
