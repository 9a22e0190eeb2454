from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.support.api import Api
from tests.support.embedded import embedded_api, embedded_settings


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[tuple[Api, FastAPI]]:
    async with embedded_api(embedded_settings(tmp_path)) as pair:
        yield pair


@pytest.fixture
async def api(embedded: tuple[Api, FastAPI]) -> Api:
    return embedded[0]
