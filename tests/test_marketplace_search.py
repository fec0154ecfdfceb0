"""Marketplace text search: PostgreSQL's full-text index (used, ranked, same hits), SQLite LIKE."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from jupyter_ide.auth.permissions import Role
from jupyter_ide.contents_manager.blobstore import LocalBlobStore
from jupyter_ide.db import Database, ensure_schema
from jupyter_ide.db.models import MarketplacePackage, MarketplacePublisher
from jupyter_ide.db.urls import POSTGRESQL
from jupyter_ide.marketplace.catalog import Catalog
from jupyter_ide.marketplace.common import Caller
from jupyter_ide.marketplace.search import like_pattern, prefix_query, text_condition

WORDS = (
    "python java rust bash theme dark light snippet lint format course grade notebook "
    "debug color icon markdown chart plot data json yaml git timer focus zen vim emacs quiz"
).split()
CALLER = Caller("reader", Role.STUDENT)


async def store(url: str, packages: int) -> Database:
    """Migrate ``url`` and fill it with ``packages`` listed packages (plus two for ranking)."""
    ensure_schema(url)
    db = Database(url)
    rng = random.Random(19)
    async with db.session() as session:
        publisher = MarketplacePublisher(
            namespace="pub", display_name="Pub", status="approved", forbidden_permissions=[]
        )
        session.add(publisher)
        await session.flush()
        rows = [
            ("pub.vim-keys", "Vim Keys", "vim bindings: vim motions in the editor", 1),
            ("pub.notes", "Notes", "take notes; works alongside vim", 10_000),
        ]
        for i in range(packages):
            words = [rng.choice(WORDS) for _ in range(8)]
            name = f"pub.{words[0]}-{words[1]}-{i}"
            rows.append((name, " ".join(words[2:4]).title(), " ".join(words[4:]), i))
        session.add_all(
            MarketplacePackage(
                name=name,
                publisher_id=publisher.id,
                display_name=display,
                description=description,
                search_text=f"{name} {display} {description}".lower(),
                latest_version="1.0.0",
                listed=True,
                downloads=downloads,
            )
            for name, display, description, downloads in rows
        )
    async with db.engine.connect() as conn:
        if db.backend == POSTGRESQL:
            await conn.exec_driver_sql("ANALYZE marketplace_packages")
    return db


async def old_search(db: Database, q: str) -> set[str]:
    """The search before the index: the whole text as a substring (LIKE)."""
    like = MarketplacePackage.search_text.like(like_pattern(q.lower()), "\\")
    async with db.engine.connect() as conn:
        return set((await conn.execute(select(MarketplacePackage.name).where(like))).scalars())


async def plan_of(db: Database, condition: Any) -> str:
    """EXPLAIN of selecting the ids that meet ``condition``, sequential scans priced out."""
    query = select(MarketplacePackage.id).where(condition)
    sql = str(query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    async with db.engine.connect() as conn:
        await conn.exec_driver_sql("SET enable_seqscan = off")
        return "\n".join((await conn.execute(text("EXPLAIN " + sql))).scalars())


async def found(catalog: Catalog, q: str, sort: str = "name") -> list[str]:
    """Every name a search for ``q`` returns, page by page."""
    names: list[str] = []
    while True:
        page = await catalog.search(CALLER, q=q, sort=sort, limit="100", offset=str(len(names)))
        names += [r["name"] for r in page["results"]]
        if len(page["results"]) < 100:
            return names


async def test_postgresql_search_uses_the_index_ranks_and_finds_what_like_found(
    pg_database_url: str,
) -> None:
    """EXPLAIN: the search can use the GIN index. One-word and prefix searches find what LIKE
    found; a several-word search finds the packages holding every word; relevance puts the
    package about the word first."""
    db = await store(pg_database_url, 3000)
    catalog = Catalog(db, LocalBlobStore(Path(tempfile.mkdtemp())))
    try:
        # With 3,000 rows a scan of the stored vectors is cheap and the planner may take it:
        # with scans priced out, the new condition goes through the index; the old LIKE cannot.
        new = await plan_of(db, text_condition(POSTGRESQL, "zen vim"))
        assert "ix_marketplace_packages_search" in new and "Seq Scan" not in new, new
        old = await plan_of(db, MarketplacePackage.search_text.like(like_pattern("zen vim")))
        assert "Seq Scan" in old and "ix_marketplace_packages_search" not in old
        for q in ("theme", "Markdown", "dar", "emac", "vim", "zzzz-nothing", "vim-keys"):
            assert set(await found(catalog, q)) == await old_search(db, q), q
        words = await found(catalog, "vim theme")
        assert words and set(words) == await old_search(db, "vim") & await old_search(db, "theme")
        assert await old_search(db, "vim theme") <= set(words)  # the old phrase hits stay
        ranked = await found(catalog, "vim", sort="relevance")  # vim 4 times, before once
        assert ranked.index("pub.vim-keys") < ranked.index("pub.notes")
        by_downloads = await catalog.search(CALLER, q="vim", sort="downloads", limit="1")
        assert by_downloads["results"][0]["name"] == "pub.notes"
    finally:
        await db.dispose()


async def test_sqlite_search_still_scans_with_like(sqlite_url: str) -> None:
    """SQLite: the substring LIKE as before, relevance puts name matches first."""
    db = await store(sqlite_url, 200)
    catalog = Catalog(db, LocalBlobStore(Path(tempfile.mkdtemp())))
    try:
        for q in ("theme", "vim", "im bind", "zzzz"):
            assert set(await found(catalog, q)) == await old_search(db, q), q
        ranked = await catalog.search(CALLER, q="vim-keys", sort="relevance", limit="1")
        assert ranked["results"][0]["name"] == "pub.vim-keys"
    finally:
        await db.dispose()


def test_prefix_query_keeps_only_words() -> None:
    """Search text becomes prefix terms; tsquery operators in it are never passed through."""
    assert prefix_query("Python  lint!") == "python:* & lint:*"
    assert prefix_query("a|b & !c:*") == "a:* & b:* & c:*"
    assert prefix_query("--") == ""
