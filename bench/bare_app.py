"""The check benchmark's baseline: a bare FastAPI endpoint served the way `recoup` serves
its apps (one uvicorn process, `log_config=None, access_log=False`, the same defaults
otherwise). It parses a check's body with a pydantic model and answers a check-shaped
JSON: no authentication, no database.

    python -m bench.bare_app PORT
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, StrictInt


class CheckIn(BaseModel):
    customer_id: str
    amount: StrictInt
    currency: str
    order_id: str | None = None


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/bare/v1/checks")
    async def check(body: CheckIn) -> dict[str, object]:
        return {"check_id": "bare", "customer_id": body.customer_id, "decision": "approve",
                "max_amount": None, "reasons": ["within credit limit"], "holds": []}

    @app.get("/readyz")
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    return app


if __name__ == "__main__":
    uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_config=None,
                access_log=False)
