"""Marketplace search: latency over 10,000 published extensions on PostgreSQL (issue #17).

A fresh PostgreSQL database gets the schema (the migrations) and 10,000 published extensions
of 500 publishers (names, descriptions and keywords from a small vocabulary, 8 categories,
downloads and ratings spread like a store's), each with one version row. Then each search
kind runs ``--rounds`` times, one at a time, through the store's own code
(``Catalog.search``: one page of 20 and, when the page is full, the hits counted up to 1,000;
the admin lists read too), and, as the baseline, the same SQL statements through a bare
psycopg connection.

Run alone: ``.venv/bin/python -m bench.marketplace [--rounds N]``. Goal: p50 under 20 ms.
Then, on the same store, the runtime's per-call permission check (bench/marketplace_calls.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from jupyter_ide.auth.permissions import Role
from jupyter_ide.contents_manager.blobstore import LocalBlobStore
from jupyter_ide.db import Database, ensure_schema
from jupyter_ide.db.models import (
    Extension,
    MarketplacePackage,
    MarketplacePublisher,
    utcnow,
)
from jupyter_ide.marketplace.catalog import Catalog
from jupyter_ide.marketplace.common import Caller
from jupyter_ide.marketplace.search import prefix_query

from . import marketplace_calls
from .quick import quick
from .stats import p95, print_table

PG_ADMIN = os.environ.get("JUPYTER_IDE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
EXTENSIONS = 10_000
PUBLISHERS = 500
CATEGORIES = (
    "themes",
    "snippets",
    "languages",
    "linters",
    "formatters",
    "course",
    "productivity",
    "other",
)
WORDS = (
    "python java rust go bash theme dark light snippet lint format course grade notebook test "
    "debug color icon markdown table chart plot data csv json yaml sql git timer focus zen "
    "keyboard vim emacs tutor hint quiz review outline todo spell word count"
).split()
OURS = "jupyter-ide Catalog.search"
BASE = "bare SQL (psycopg)"
GOAL_MS = 20.0
# (label, q, category, sort)
SEARCHES = (
    ("no text, by downloads", "", "", "downloads"),
    ("text 'theme', by downloads", "theme", "", "downloads"),
    ("text 'python lint' (two words)", "python lint", "", "downloads"),
    ("text 'python lint', by relevance", "python lint", "", "relevance"),
    ("text, no match", "zzzz-nothing", "", "downloads"),
    ("category themes, by rating", "", "themes", "rating"),
    ("text 'dark' + category, by date", "dark", "themes", "date"),
)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


async def populate(db: Database, rng: random.Random) -> None:
    """Insert the publishers, the 10,000 extensions and one version of each."""
    now = utcnow()
    async with db.session() as session:
        publishers = [
            MarketplacePublisher(
                namespace=f"pub-{i:03}",
                display_name=f"Publisher {i}",
                status="approved",
                forbidden_permissions=[],
            )
            for i in range(PUBLISHERS)
        ]
        session.add_all(publishers)
        await session.flush()
        packages = []
        for i in range(EXTENSIONS):
            publisher = publishers[i % PUBLISHERS]
            name = f"{publisher.namespace}.{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i}"
            display = _sentence(rng, 3).title()
            description = _sentence(rng, 12)
            keywords = _sentence(rng, 3)
            rating_count = int(rng.paretovariate(1.5)) - 1
            packages.append(
                MarketplacePackage(
                    name=name,
                    publisher_id=publisher.id,
                    kind="ide",
                    display_name=display,
                    description=description,
                    category=rng.choice(CATEGORIES),
                    search_text=f"{name} {display} {description} {keywords}".lower(),
                    latest_version="1.0.0",
                    listed=True,
                    downloads=int(rng.paretovariate(1.2) * 10),
                    rating=round(rng.uniform(1, 5), 2) if rating_count else 0.0,
                    rating_count=rating_count,
                    created_at=now - timedelta(days=rng.uniform(0, 900)),
                    updated_at=now - timedelta(days=rng.uniform(0, 900)),
                )
            )
        session.add_all(packages)
        await session.flush()
        session.add_all(
            Extension(
                name=p.name,
                version="1.0.0",
                manifest={"name": p.name.split(".", 1)[1], "version": "1.0.0"},
                package_id=p.id,
                content_hash=uuid.uuid4().hex * 2,
                size=2048,
                signatures=[{"key_id": "0" * 32, "signature": ""}],
            )
            for p in packages
        )
    async with db.engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")


def bare_sql(conn: psycopg.Connection[Any], q: str, category: str, sort: str) -> None:
    """The same page and count as Catalog.search, hand-written."""
    order = {
        "downloads": "downloads DESC, name",
        "rating": "rating DESC, rating_count DESC, name",
        "date": "updated_at DESC, name",
        "relevance": "downloads DESC, name",
    }[sort]
    where = ["listed"]
    args: list[Any] = []
    terms = prefix_query(q)
    if terms:  # as Catalog.search on PostgreSQL: through the full-text index
        where.append("search_vector @@ to_tsquery('simple', %s)")
        args.append(terms)
    elif q:
        where.append("search_text LIKE %s")
        args.append(f"%{q.lower()}%")
    if category:
        where.append("category = %s")
        args.append(category)
    clause = " AND ".join(where)
    ranked: list[Any] = []
    if terms and sort == "relevance":
        order = f"ts_rank(search_vector, to_tsquery('simple', %s)) DESC, {order}"
        ranked = [terms]
    page = conn.execute(
        f"SELECT * FROM marketplace_packages WHERE {clause} ORDER BY {order} LIMIT 20",
        [*args, *ranked],
    ).fetchall()
    if len(page) == 20:
        conn.execute(
            "SELECT count(*) FROM (SELECT id FROM marketplace_packages "
            f"WHERE {clause} LIMIT 1001) AS hits",
            args,
        ).fetchone()


async def main(argv: list[str] | None = None) -> None:
    """Build the store, run each search kind, print p50/p95 against bare SQL and the goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20 if quick() else 300)
    args = parser.parse_args(argv if argv is not None else [])
    name = f"jupyter_ide_bench_mk_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    db = Database(url)
    try:
        ensure_schema(url)
        started = time.perf_counter()
        await populate(db, random.Random(17))
        print(f"populated {EXTENSIONS} extensions in {time.perf_counter() - started:.1f} s")
        catalog = Catalog(db, LocalBlobStore(Path(tempfile.mkdtemp())))  # search reads no blob
        caller = Caller("bench", Role.STUDENT)
        bare = psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}", autocommit=True)
        rows: dict[str, dict[str, list[float]]] = {}
        every: list[float] = []
        for label, q, category, sort in SEARCHES:
            found = await catalog.search(caller, q=q, category=category, sort=sort)
            ours, base = [], []
            for _ in range(args.rounds):
                t = time.perf_counter()
                await catalog.search(caller, q=q, category=category, sort=sort)
                ours.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                bare_sql(bare, q, category, sort)
                base.append((time.perf_counter() - t) * 1000)
            hits = f"{found['total']}{'+' if found['total_capped'] else ''}"
            rows[f"{label} ({hits} hits)"] = {BASE: base, OURS: ours}
            every += ours
        bare.close()
        print_table(
            f"marketplace search: {EXTENSIONS} extensions on PostgreSQL, {args.rounds} rounds each",
            rows,
            BASE,
        )
        median = statistics.median(every)
        verdict = "met" if median < GOAL_MS else "NOT met"
        print(
            f"goal: search p50 < {GOAL_MS:.0f} ms: all kinds p50 {median:.2f} ms, "
            f"p95 {p95(every):.2f} ms -> {verdict}; load average {os.getloadavg()[0]:.1f}"
        )
        await marketplace_calls.run(db, args.rounds)
    finally:
        await db.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
