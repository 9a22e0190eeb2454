"""Collection-plan's HTTP edge, one module per area: schema -> command -> handler -> JSON."""

from __future__ import annotations

from fastapi import APIRouter

from services.collection_plan.api import agreements, cases, customers, reports, strategies, write_offs

router = APIRouter(prefix="/v1", tags=["collections"])
for area in (cases, agreements, strategies, write_offs, customers, reports):
    router.include_router(area.router)
