from datetime import date

from services.credit.domain.dossier import agreement_status, changes, warning_signs
from services.credit.domain.reviews import ANNUAL, MONTHLY, QUARTERLY, review_for


def test_changes_name_each_field_with_before_and_after() -> None:
    found = changes({"name": "A", "region": "north"}, {"name": "A", "region": "south", "address": "x"})
    assert [(c.field, c.before, c.after) for c in found] == [
        ("region", "north", "south"), ("address", None, "x")]


def test_a_new_legal_representative_is_a_warning_sign_the_first_entry_is_not() -> None:
    assert warning_signs(changes({}, {"legal_representative": "Wang"})) == []
    (sign,) = warning_signs(changes({"legal_representative": "Wang"}, {"legal_representative": "Li"}))
    assert sign.kind == "change_of_legal_representative"
    assert sign.evidence == ("legal representative changed from 'Wang' to 'Li'",)


def test_losing_or_changing_the_seal_is_a_warning_sign_gaining_one_is_not() -> None:
    sealed = {"documents": {"sales_agreement": {"signed": True, "sealed": True, "sealed_by": "Wang Co"}}}
    signed = {"documents": {"sales_agreement": {"signed": True, "sealed": False}}}
    other = {"documents": {"sales_agreement": {"signed": True, "sealed": True, "sealed_by": "Li Co"}}}
    assert [s.kind for s in warning_signs(changes(sealed, signed))] == ["seal_status_changed"]
    assert "'Wang Co' to 'Li Co'" in warning_signs(changes(sealed, other))[0].evidence[0]
    assert warning_signs(changes(signed, sealed)) == []
    assert [agreement_status(d["documents"]) for d in (sealed, signed, {"documents": {}})] == [
        "sealed", "signed", "none"]


def test_the_review_of_a_month() -> None:
    assert review_for(date(2026, 1, 5)) == ("2026-01", ANNUAL)
    assert review_for(date(2026, 4, 30))[1] == QUARTERLY
    assert review_for(date(2026, 5, 1))[1] == MONTHLY
    assert review_for(date(2026, 6, 1), annual_month=6)[1] == ANNUAL
