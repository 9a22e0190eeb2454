from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.flow import play_missed_payment_flow
from tests.support.api import Api
from tests.support.distributed import distributed_api
from tests.support.servers import require_postgres, require_rabbitmq


async def test_embedded_mode(api: Api) -> None:
    await play_missed_payment_flow(api, "DEALER-E")


@pytest.mark.distributed
async def test_distributed_mode_four_processes_postgres_rabbitmq(tmp_path: Path) -> None:
    require_postgres()
    require_rabbitmq()
    async with distributed_api(tmp_path) as api:
        await play_missed_payment_flow(api, "DEALER-D")
