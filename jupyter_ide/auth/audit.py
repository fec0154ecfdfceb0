"""The audit log: security-relevant events, kept in the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..db import AuditEvent


def record(
    session: AsyncSession,
    event: str,
    user_name: str,
    *,
    user_id: int | None = None,
    remote_ip: str | None = None,
    **detail: Any,
) -> None:
    """Add an audit event to the session's unit of work (never a secret in ``detail``)."""
    session.add(
        AuditEvent(
            event=event,
            user_name=user_name,
            user_id=user_id,
            remote_ip=remote_ip,
            detail=detail,
        )
    )
