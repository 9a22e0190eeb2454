import pytest
from pydantic import ValidationError

from shared.settings import Settings


def test_production_refuses_to_start_without_api_keys() -> None:
    with pytest.raises(ValidationError, match="RECOUP_API_KEYS"):
        Settings(environment="production", api_keys=None)
    assert Settings(environment="production", api_keys="s=admin").api_keys == "s=admin"


def test_a_service_uses_sqlite_under_the_data_dir_unless_told_otherwise(tmp_path) -> None:  # noqa: ANN001
    settings = Settings(data_dir=tmp_path, database_url_ledger="postgresql+asyncpg://h/ledger")
    assert settings.database_url("ledger") == "postgresql+asyncpg://h/ledger"
    assert settings.database_url("credit") == f"sqlite+aiosqlite:///{tmp_path / 'credit.sqlite3'}"
