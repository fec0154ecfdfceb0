"""The service's record of each user's kernels, in the database: what a restart leaves behind.

Kernels are containers the service process holds the sockets of, so they end with it (its
start-up sweep removes what a crash left). Their records stay: each owner is then shown the
kernel as dead, and restarting it starts a new one under the same id, in the same folder,
with the user's saved files, as a kernel that died on its own would be restarted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select

from ..db import Database
from ..db.models import ServiceKernel

JUPYTER_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class KernelRecord:
    """One kernel a user started: its id, kernelspec, folder and start time."""

    kernel_id: str
    owner: str
    kernel_name: str
    folder: str
    started_at: datetime
    replica: str = ""

    def dead_model(self) -> dict[str, object]:
        """Jupyter's kernel model of this kernel once its process is gone."""
        return {
            "id": self.kernel_id,
            "name": self.kernel_name,
            # As Jupyter writes it (the gateway client parses exactly this form).
            "last_activity": self.started_at.astimezone(timezone.utc).strftime(JUPYTER_TIME),
            "execution_state": "dead",
            "connections": 0,
        }


class KernelRecords:
    """Add, find and remove the kernel records of the service's users."""

    def __init__(self, db: Database) -> None:
        """Keep the records in ``db``."""
        self.db = db

    async def add(
        self, kernel_id: str, owner: str, kernel_name: str, folder: str, replica: str = ""
    ) -> None:
        """Record that ``owner`` started ``kernel_id`` on ``replica`` (replacing that id's)."""
        async with self.db.session() as session:
            await session.execute(delete(ServiceKernel).where(ServiceKernel.kernel_id == kernel_id))
            session.add(
                ServiceKernel(
                    kernel_id=kernel_id,
                    owner=owner,
                    kernel_name=kernel_name,
                    folder=folder,
                    replica=replica,
                )
            )

    async def remove(self, kernel_id: str) -> None:
        """Forget ``kernel_id`` (its owner shut it down)."""
        async with self.db.session() as session:
            await session.execute(delete(ServiceKernel).where(ServiceKernel.kernel_id == kernel_id))

    async def of(self, owner: str) -> list[KernelRecord]:
        """Return ``owner``'s records, oldest first."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(ServiceKernel)
                .where(ServiceKernel.owner == owner)
                .order_by(ServiceKernel.started_at)
            )
            return [_record(row) for row in rows]

    async def get(self, kernel_id: str) -> KernelRecord | None:
        """Return the record of ``kernel_id``, or None."""
        async with self.db.session() as session:
            row = await session.get(ServiceKernel, kernel_id)
            return None if row is None else _record(row)


def _record(row: ServiceKernel) -> KernelRecord:
    """Return a row as a plain record (usable after its session ends)."""
    return KernelRecord(
        row.kernel_id, row.owner, row.kernel_name, row.folder, row.started_at, row.replica
    )
