"""Small queries shared by several parts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .models import User


async def get_or_create_user(
    session: AsyncSession, name: str, role: str = "student"
) -> tuple[User, bool]:
    """Return the user named ``name`` and whether the row was created just now."""
    user = (await session.execute(select(User).where(User.name == name))).scalar_one_or_none()
    if user is not None:
        return user, False
    try:
        async with session.begin_nested():  # a savepoint: a concurrent insert must not abort us
            user = User(name=name, role=role)
            session.add(user)
            await session.flush()
    except IntegrityError:
        # Another request created the same user first: use theirs.
        user = (await session.execute(select(User).where(User.name == name))).scalar_one()
        return user, False
    return user, True
