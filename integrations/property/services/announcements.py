from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from integrations.property.interface import AnnouncementInfo
from integrations.property.models import Announcement, utcnow
from integrations.property.services._base import Service


class AnnouncementService(Service):
    def current(self, *, now: datetime | None = None) -> list[AnnouncementInfo]:
        now = now or utcnow()
        with self._tx() as session:
            rows = session.scalars(
                select(Announcement)
                .where(Announcement.published_at <= now)
                .where(or_(Announcement.expires_at.is_(None), Announcement.expires_at > now))
                .order_by(Announcement.published_at.desc())
            )
            return [
                AnnouncementInfo(id=a.id, title=a.title, body=a.body, published_at=a.published_at)
                for a in rows
            ]
