"""Turn backend failures (blob store, database, disk) into clear HTTP errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from tornado import web

from .blobstore import BlobMissingError, BlobStoreError
from .workspace import UnsafePathError


@contextmanager
def backend_errors(action: str) -> Iterator[None]:
    """Re-raise store and database failures during ``action`` as 4xx/5xx with a human message."""
    try:
        yield
    except web.HTTPError:
        raise
    except UnsafePathError as e:
        raise web.HTTPError(400, f"Cannot {action}: {e}") from e
    except BlobMissingError as e:
        raise web.HTTPError(500, f"Cannot {action}: the stored content is missing ({e})") from e
    except BlobStoreError as e:
        raise web.HTTPError(
            503,
            f"Cannot {action}: the file store did not answer ({e}). Nothing was changed; "
            "try again in a moment.",
        ) from e
    except IntegrityError as e:
        raise web.HTTPError(
            409, f"Cannot {action}: it changed at the same moment elsewhere; try again."
        ) from e
    except (DBAPIError, PoolTimeoutError, ConnectionError) as e:
        raise web.HTTPError(
            503,
            f"Cannot {action}: the database did not answer. Nothing was changed; "
            "try again in a moment.",
        ) from e
    except SQLAlchemyError as e:
        raise web.HTTPError(500, f"Cannot {action}: database error ({type(e).__name__})") from e
