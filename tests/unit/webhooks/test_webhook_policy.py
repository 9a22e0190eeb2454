"""Where webhooks may go, and when failed ones are tried again."""

from __future__ import annotations

import pytest

from services.webhooks.domain.policy import RetryPolicy, check_url, is_private
from shared.errors import Invalid


def test_https_is_required_unless_http_is_allowed() -> None:
    assert check_url("https://erp.example.com/hooks", allow_http=False).port == 443
    with pytest.raises(Invalid) as refused:
        check_url("http://erp.example.com/hooks", allow_http=False)
    assert refused.value.field == "url"
    assert check_url("http://erp.example.com:8080/hooks", allow_http=True).port == 8080


@pytest.mark.parametrize("url", ["ftp://erp.example.com/", "https:///no-host",
                                 "https://user:pw@erp.example.com/", "https://erp:99999/"])
def test_malformed_urls_name_the_field(url: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_url(url, allow_http=True)
    assert refused.value.field == "url"


@pytest.mark.parametrize(("address", "private"), [
    ("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.5", True), ("172.16.0.1", True),
    ("169.254.169.254", True),  # cloud metadata
    ("100.64.0.1", True), ("0.0.0.0", True), ("::1", True), ("fd00::1", True),
    ("::ffff:10.0.0.1", True), ("224.0.0.1", True),
    ("93.184.216.34", False), ("2606:2800:220:1::1", False),
])
def test_private_addresses(address: str, private: bool) -> None:
    assert is_private(address) is private


def test_retries_back_off_with_jitter_then_stop() -> None:
    policy = RetryPolicy(max_attempts=4, base_seconds=10, max_seconds=25)
    assert policy.next_delay(1, jitter=0.0) == 5  # half of the step at the least
    assert policy.next_delay(1, jitter=0.999) == pytest.approx(10, abs=0.01)
    assert policy.next_delay(2, jitter=0.0) == 10
    assert policy.next_delay(3, jitter=0.999) == pytest.approx(25, abs=0.02)  # capped
    assert policy.next_delay(4, jitter=0.5) is None  # the 4th try failed: dead
