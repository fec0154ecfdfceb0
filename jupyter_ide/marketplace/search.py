"""Text search of the store: PostgreSQL's full-text index, or a LIKE scan on SQLite.

On PostgreSQL a search's words (runs of letters and digits) must each start a word of the
package's search text (name, display name, description, keywords), in any order: "pyth lint"
finds "Python linter". A search with punctuation ("vim-keys", "c++") must also hold as typed.
Unlike the LIKE before it, a piece inside a word ("inter" of "linter") finds nothing. The
condition reads ``search_vector`` (kept by a trigger, under a GIN index: migration 0019), so
no row's text is parsed at search time; results can rank by ts_rank. SQLite keeps the LIKE.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import and_, case, func, literal_column

from ..db.models import MarketplacePackage
from ..db.urls import POSTGRESQL

WORDS = re.compile(r"[^\W_]+")
PUNCTUATION = re.compile(r"[^\w\s]|_")
VECTOR = MarketplacePackage.search_vector


def like_pattern(text: str) -> str:
    """Return a LIKE pattern matching ``text`` anywhere, its wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def prefix_query(q: str) -> str:
    """Return the tsquery text "w1:* & w2:*" for the words of ``q`` ("" when it has none)."""
    return " & ".join(f"{word}:*" for word in WORDS.findall(q.lower()))


def _tsquery(q: str) -> Any:
    return func.to_tsquery(literal_column("'simple'"), prefix_query(q))


def uses_index(backend: str, q: str) -> bool:
    """Whether a search for ``q`` on ``backend`` goes through the full-text index."""
    return backend == POSTGRESQL and bool(prefix_query(q))


def text_condition(backend: str, q: str) -> Any:
    """Return the SQL condition a package's search text must meet to match ``q``."""
    like = MarketplacePackage.search_text.like(like_pattern(q.strip().lower()), "\\")
    if not uses_index(backend, q):
        return like
    match = VECTOR.op("@@")(_tsquery(q))
    # "vim-keys", "c++": the index finds the words, the LIKE then checks the rest on those rows.
    return and_(match, like) if PUNCTUATION.search(q) else match


def relevance(backend: str, q: str) -> tuple[Any, ...]:
    """Return the ORDER BY of a search by relevance: best match first, then downloads."""
    then = (MarketplacePackage.downloads.desc(), MarketplacePackage.name)
    if not q.strip():
        return then
    if uses_index(backend, q):
        return (func.ts_rank(VECTOR, _tsquery(q)).desc(), *then)
    named = case((MarketplacePackage.name.like(like_pattern(q.strip().lower()), "\\"), 0), else_=1)
    return (named, *then)
