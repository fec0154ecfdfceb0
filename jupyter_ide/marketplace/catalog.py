"""The store's catalogue: search, detail, download, ratings, the admin's allow/block lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..contents_manager.blobstore import BlobMissingError, BlobStore, BlobStoreError
from ..db import Database
from ..db.models import (
    Extension,
    MarketplaceListEntry,
    MarketplacePackage,
    MarketplacePublisher,
    MarketplaceRating,
)
from .common import (
    Caller,
    audit,
    blocked_reason,
    integrity,
    is_served,
    list_entries,
    package_named,
    revoked_key_ids,
    user_of,
    versions_of,
)
from .errors import MarketplaceError
from .grants import GrantCache
from .search import relevance, text_condition

SORTS = {
    "downloads": (MarketplacePackage.downloads.desc(), MarketplacePackage.name),
    "rating": (
        MarketplacePackage.rating.desc(),
        MarketplacePackage.rating_count.desc(),
        MarketplacePackage.name,
    ),
    "date": (MarketplacePackage.updated_at.desc(), MarketplacePackage.name),
    "name": (MarketplacePackage.name,),
    "relevance": (),  # made per search: see search.relevance
}
MAX_PAGE = 100
# The columns a search result shows.
SUMMARY = (
    MarketplacePackage.name,
    MarketplacePackage.display_name,
    MarketplacePackage.description,
    MarketplacePackage.category,
    MarketplacePackage.kind,
    MarketplacePackage.latest_version,
    MarketplacePackage.downloads,
    MarketplacePackage.rating,
    MarketplacePackage.rating_count,
    MarketplacePackage.updated_at,
)
COUNT_CAP = 1000  # a search counts its hits up to this many
LISTS = ("allow", "block")


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError as e:
        raise MarketplaceError(400, f"{name} must be a whole number") from e
    if not low <= number <= high:
        raise MarketplaceError(400, f"{name} must be between {low} and {high}")
    return number


def summary(package: Any) -> dict[str, Any]:
    """Return a package as a search result shows it."""
    return {
        "name": package.name,
        "display_name": package.display_name,
        "description": package.description,
        "category": package.category,
        "kind": package.kind,
        "version": package.latest_version,
        "downloads": package.downloads,
        "rating": round(package.rating, 2),
        "rating_count": package.rating_count,
        "updated_at": package.updated_at.isoformat(),
    }


class Catalog:
    """Reading the store: search, a package's detail, downloads; ratings and admin lists."""

    def __init__(self, db: Database, store: BlobStore, grants: GrantCache | None = None) -> None:
        """Keep the database, the packages' blob store and the call check's cache."""
        self.db = db
        self.store = store
        self.grants = grants or GrantCache(None)

    async def search(
        self,
        caller: Caller,
        q: str = "",
        category: str = "",
        sort: str = "downloads",
        limit: str = "20",
        offset: str = "0",
    ) -> dict[str, Any]:
        """Find listed packages by text and category; sort by downloads, rating, date, name.

        Or by relevance. On PostgreSQL the text goes through the full-text index (search.py).
        """
        if sort not in SORTS:
            raise MarketplaceError(400, f"sort is one of: {', '.join(SORTS)}")
        if len(q) > 200 or len(category) > 64:
            raise MarketplaceError(400, "The search text is too long")
        page = _int(limit, "limit", 1, MAX_PAGE)
        start = _int(offset, "offset", 0, 1_000_000)
        conditions: list[Any] = [MarketplacePackage.listed.is_(True)]
        if q.strip():
            conditions.append(text_condition(self.db.backend, q))
        if category:
            conditions.append(MarketplacePackage.category == category)
        # One connection, columns only (no ORM objects, no commit): the store's hottest read.
        async with self.db.engine.connect() as conn:
            entries = await conn.execute(
                select(MarketplaceListEntry.list, MarketplaceListEntry.subject)
            )
            lists: dict[str, set[str]] = {"allow": set(), "block": set()}
            for which, subject in entries.all():
                lists.setdefault(which, set()).add(subject)
            conditions += await self._list_conditions(conn, lists)
            order = relevance(self.db.backend, q) if sort == "relevance" else SORTS[sort]
            query = select(*SUMMARY).where(*conditions).order_by(*order)
            rows = (await conn.execute(query.limit(page).offset(start))).all()
            if start == 0 and len(rows) < page:
                total = len(rows)  # the first page holds every hit: no count to run
            else:  # count, but stop at the cap: a common word need not scan the whole store
                hits = select(MarketplacePackage.id).where(*conditions).limit(COUNT_CAP + 1)
                count = select(func.count()).select_from(hits.subquery())
                total = (await conn.execute(count)).scalar_one()
        return {
            "total": min(total, COUNT_CAP),
            "total_capped": total > COUNT_CAP,
            "results": [summary(p) for p in rows],
        }

    async def _list_conditions(self, session: Any, lists: dict[str, set[str]]) -> list[Any]:
        """Return SQL conditions that keep blocked (or not allowed) packages out of a search."""
        conditions: list[Any] = []
        if not lists["block"] and not lists["allow"]:
            return conditions

        def namespaces(subjects: set[str]) -> Any:
            return select(MarketplacePublisher.id).where(
                MarketplacePublisher.namespace.in_(subjects)
            )

        if lists["block"]:
            conditions.append(~MarketplacePackage.name.in_(lists["block"]))
            conditions.append(~MarketplacePackage.publisher_id.in_(namespaces(lists["block"])))
        if lists["allow"]:
            conditions.append(
                or_(
                    MarketplacePackage.name.in_(lists["allow"]),
                    MarketplacePackage.publisher_id.in_(namespaces(lists["allow"])),
                )
            )
        return conditions

    async def detail(self, caller: Caller, name: str) -> dict[str, Any]:
        """Return a package with every version, its permissions and integrity hashes."""
        async with self.db.session() as session:
            package = await package_named(session, name)
            lists = await list_entries(session)
            blocked = blocked_reason(name, lists)
            owner = caller.admin or await self._owns(session, caller, package)
            if (blocked or not package.listed) and not owner:
                raise MarketplaceError(404, f"No extension named {name!r}")
            revoked = await revoked_key_ids(session)
            found = await versions_of(session, package)
            publisher = await session.get(MarketplacePublisher, package.publisher_id)
        latest = next((v for v in found if v.version == package.latest_version), None)
        shown = [v for v in found if owner or is_served(v, revoked)]
        return {
            **summary(package),
            "publisher": publisher.namespace if publisher else None,
            "blocked": blocked,
            "permissions": (latest.manifest.get("permissions", []) if latest else []),
            "manifest": latest.manifest if latest else None,
            "versions": [
                {
                    "version": v.version,
                    "published_at": v.published_at.isoformat(),
                    "yanked": v.yanked_at is not None,
                    "yank_reason": v.yank_reason,
                    "served": is_served(v, revoked),
                    "permissions": v.manifest.get("permissions", []),
                    "size": v.size,
                    "sha256": v.content_hash,
                    "integrity": integrity(v.content_hash),
                    "signed_by": [s.get("key_id") for s in v.signatures],
                }
                for v in shown
            ],
        }

    async def _owns(self, session: Any, caller: Caller, package: MarketplacePackage) -> bool:
        publisher = await session.get(MarketplacePublisher, package.publisher_id)
        me = await user_of(session, caller)
        return publisher is not None and publisher.owner_id == me.id

    async def download(
        self, caller: Caller, name: str, version: str
    ) -> tuple[bytes, str, Extension]:
        """Return a served version's bytes and sha256; count the download."""
        async with self.db.session() as session:
            package = await package_named(session, name)
            reason = blocked_reason(name, await list_entries(session))
            if reason:
                raise MarketplaceError(403, f"{name} is {reason}")
            query = select(Extension).where(
                Extension.package_id == package.id, Extension.version == version
            )
            found = (await session.execute(query)).scalar_one_or_none()
            if found is None:
                raise MarketplaceError(404, f"{name} has no version {version!r}")
            if not is_served(found, await revoked_key_ids(session)):
                raise MarketplaceError(
                    410, f"{name} {version} is no longer served: the key that signed it was revoked"
                )
        try:
            data = await self.store.get(found.content_hash)
        except BlobMissingError as e:
            raise MarketplaceError(404, f"{name} {version} is missing from the store") from e
        except BlobStoreError as e:
            raise MarketplaceError(503, "The package store is unavailable; try again") from e
        async with self.db.session() as session:
            await session.execute(
                update(MarketplacePackage)
                .where(MarketplacePackage.id == package.id)
                .values(downloads=MarketplacePackage.downloads + 1)
            )
        return data, found.content_hash, found

    async def rate(self, caller: Caller, name: str, body: Any) -> dict[str, Any]:
        """Set the caller's stars (1-5) for a package; its mean rating follows."""
        stars = body.get("stars") if isinstance(body, dict) else None
        if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
            raise MarketplaceError(400, "stars is a whole number from 1 to 5")
        async with self.db.session() as session:
            package = await package_named(session, name)
            if not package.listed:
                raise MarketplaceError(404, f"No extension named {name!r}")
            me = await user_of(session, caller)
            dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            statement = insert(MarketplaceRating).values(
                user_id=me.id, package_id=package.id, stars=stars
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["user_id", "package_id"], set_={"stars": stars}
                )
            )
            mean, count = (
                await session.execute(
                    select(func.avg(MarketplaceRating.stars), func.count()).where(
                        MarketplaceRating.package_id == package.id
                    )
                )
            ).one()
            package.rating = float(mean or 0)
            package.rating_count = int(count)
            audit(session, "rated", caller, package=name, stars=stars)
            return {"name": name, "rating": round(package.rating, 2), "rating_count": count}

    async def lists(self) -> dict[str, Any]:
        """Return the admin's allow and block lists with reasons."""
        async with self.db.session() as session:
            rows = (await session.execute(select(MarketplaceListEntry))).scalars()
            result: dict[str, list[dict[str, Any]]] = {name: [] for name in LISTS}
            for row in rows:
                result[row.list].append(
                    {"subject": row.subject, "reason": row.reason, "added_by": row.added_by}
                )
        return result

    async def set_entry(
        self, caller: Caller, which: str, subject: str, body: Any, *, remove: bool = False
    ) -> dict[str, Any]:
        """Add (or remove) a namespace or package on the allow or block list."""
        if which not in LISTS:
            raise MarketplaceError(404, "The lists are allow and block")
        if not subject or len(subject) > 130:
            raise MarketplaceError(400, "Name a namespace or a <namespace>.<name> package")
        async with self.db.session() as session:
            found = await session.get(MarketplaceListEntry, (which, subject))
            if remove:
                if found is None:
                    raise MarketplaceError(404, f"{subject!r} is not on the {which} list")
                await session.delete(found)
            else:
                reason = body.get("reason", "") if isinstance(body, dict) else ""
                if not isinstance(reason, str) or len(reason) > 255:
                    raise MarketplaceError(400, "reason is a string of up to 255 characters")
                if found is None:
                    session.add(
                        MarketplaceListEntry(
                            list=which, subject=subject, reason=reason, added_by=caller.name
                        )
                    )
                else:
                    found.reason = reason
            audit(
                session,
                "list_removed" if remove else "list_added",
                caller,
                list=which,
                subject=subject,
            )
        await self.grants.changed()  # a blocked extension's calls stop at once
        return {"list": which, "subject": subject, "on_list": not remove}
