from __future__ import annotations

from integrations.property.interface import ResidentInfo
from integrations.property.services._base import Service, load_resident, resident_info


class ResidentService(Service):
    def by_openid(self, openid: str) -> ResidentInfo | None:
        with self._tx() as session:
            resident = load_resident(session, openid)
            return resident_info(resident) if resident else None
