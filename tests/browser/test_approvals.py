"""Approving and rejecting a paused write from the playground (needs the approval routes)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.browser.apps import REFUNDS, WerkzeugThread, fastapi_app, flask_app, refund_tool
from tests.browser.conftest import OfflinePage
from tests.fakes.servers import UvicornThread

pytestmark = pytest.mark.skipif(
    refund_tool is None, reason="this selectools has no approvals (Tool.requires_approval)"
)


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    app, kind = (
        (fastapi_app(), UvicornThread)
        if request.param == "fastapi"
        else (flask_app(), WerkzeugThread)
    )
    with kind(app) as running:
        url = running.url + "/bot"
        probe = httpx.post(f"{url}/approvals/apr_{'0' * 32}", json={"approve": True})
        if probe.status_code == 405 or (probe.status_code == 404 and "error" not in probe.text):
            pytest.skip("this selectools serves no approval routes")
        yield url


def test_approve_runs_the_write_once(offline: OfflinePage, base: str) -> None:
    REFUNDS.clear()
    page = offline.page
    page.goto(f"{base}/playground?key=key-ada")
    page.fill("#input", "refund order 1001 please")
    page.click("#send")
    card = page.locator(".card.approval")
    card.wait_for()
    assert "refund" in card.inner_text()
    assert '"order_id": 1001' in card.inner_text()
    assert REFUNDS == []  # paused: the write has not run
    card.get_by_role("button", name="Approve").click()
    answer = page.locator(".turn.agent").last
    answer.locator(".usage").wait_for()
    assert "Tool said: refunded 1001" in answer.locator(".answer").inner_text()
    assert REFUNDS == [1001]
    assert card.get_by_role("button", name="Approve").is_disabled()  # decided once
    assert offline.errors == []


def test_reject_reaches_the_model(offline: OfflinePage, base: str) -> None:
    REFUNDS.clear()
    page = offline.page
    page.goto(f"{base}/playground?key=key-ada")
    page.fill("#input", "refund order 1001")
    page.click("#send")
    card = page.locator(".card.approval")
    card.wait_for()
    card.get_by_label("Reason").fill("not without a receipt")
    card.get_by_role("button", name="Reject").click()
    answer = page.locator(".turn.agent").last
    answer.locator(".usage").wait_for()
    assert "not without a receipt" in answer.locator(".answer").inner_text()
    assert REFUNDS == []
