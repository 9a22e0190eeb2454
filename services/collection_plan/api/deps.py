from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.collection_plan.config import CollectionsConfig
from shared.auth import Principal
from shared.runtime import ServiceRuntime
from shared.web import get_runtime, require

Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Reader = Annotated[Principal, require("collections:read")]
Writer = Annotated[Principal, require("collections:write")]
Approver = Annotated[Principal, require("collections:approve")]


def config_of(runtime: ServiceRuntime) -> CollectionsConfig:
    return runtime.config if isinstance(runtime.config, CollectionsConfig) else CollectionsConfig()
