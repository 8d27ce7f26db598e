"""GET /agent/analytics on Flask: off by default, on through SELECTOOLS_ANALYTICS_ROUTE."""

from __future__ import annotations

from flask import Flask, g, request

from selectools import Agent, ScriptedProvider, call
from selectools.analytics import Analytics
from selectools.serving import Caller
from selectools_flask import Selectools
from tests.fakes.agents import get_weather


def make_app(**config: object) -> Flask:
    app = Flask(__name__)
    app.config.update(config)

    @app.before_request
    def login() -> None:
        g.user = request.headers.get("X-User")

    steps = [call("get_weather", city="Oslo"), "Cold."]
    agent = Agent([get_weather], ScriptedProvider(steps, cycle=True), policies=[Analytics()])
    Selectools(app, agent=agent, identity=lambda: g.user)
    return app


def test_off_by_default() -> None:
    client = make_app().test_client()
    assert client.get("/agent/analytics", headers={"X-User": "ada"}).status_code == 404


def test_on_and_owner_scoped() -> None:
    def admin(caller: Caller) -> bool:
        return caller.identity == "root"

    client = make_app(
        SELECTOOLS_ANALYTICS_ROUTE=True, SELECTOOLS_ANALYTICS_ADMIN=admin
    ).test_client()
    for user in ("ada", "bob", "bob"):
        assert (
            client.post("/agent/invoke", json={"input": "hi"}, headers={"X-User": user}).status_code
            == 200
        )
    bob = client.get("/agent/analytics", headers={"X-User": "bob"}).get_json()
    assert bob["identities"] == {"bob": bob["identities"]["bob"]}
    assert bob["identities"]["bob"]["runs"] == 2
    assert bob["tools"]["get_weather"]["calls"] == 2
    assert client.get("/agent/analytics").status_code == 403
    assert client.get("/agent/analytics?identity=ada", headers={"X-User": "bob"}).status_code == 403
    everyone = client.get("/agent/analytics", headers={"X-User": "root"}).get_json()
    assert everyone["runs"] == 3
