import pytest
from pydantic import ValidationError

from services.credit.config import CreditConfig


def test_weights_merge_over_the_defaults_and_unknown_factors_are_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_CREDIT_WEIGHTS", '{"timeliness": 30}')
    config = CreditConfig()
    assert config.weights["timeliness"] == 30 and config.weights["signals"] == 8
    monkeypatch.setenv("RECOUP_CREDIT_WEIGHTS", '{"luck": 5}')
    with pytest.raises(ValidationError, match="unknown scorecard factors"):
        CreditConfig()


def test_the_ladder_is_configurable_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_CREDIT_LADDER", '[{"min_days": 45, "kinds": ["stop_shipments"], '
                                               '"reason": "45 days"}]')
    assert [r.min_days for r in CreditConfig().rungs] == [45]
    monkeypatch.setenv("RECOUP_CREDIT_LADDER", '[{"min_days": 45, "kinds": ["jail"], "reason": "x"}]')
    with pytest.raises(ValidationError):
        CreditConfig()


def test_the_older_reduced_batch_setting_is_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CreditConfig().reduced_batch_percent == 25
    monkeypatch.setenv("RECOUP_REDUCED_BATCH_PERCENT", "40")
    assert CreditConfig().reduced_batch_percent == 40


def test_class_floors_must_fall_from_a_to_d(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_CREDIT_CLASS_FLOORS", '{"A": 50, "B": 70, "C": 55, "D": 40}')
    with pytest.raises(ValidationError, match="fall from A to D"):
        CreditConfig()
