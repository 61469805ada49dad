"""One registry of channels (chalicelib/channel_registry.py) feeds every list, enum, route and policy.

Given a channel added to the registry and nowhere else, then it is served by GET /api/channels, named
in the OpenAPI document, accepted by the inbox filter, the SLA overrides and the CRM import, and alarmed
on per channel; and no other module of what Lambda ships (Python or the web UI) keeps a list of the
platforms of its own.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from chalicelib.channels import registry as channel_registry
from chalicelib.auth import mint
from chalicelib.models import Mention
from tests.conftest import TEST_SECRETS

ROOT = Path(__file__).resolve().parents[2]
SIX = ("x", "facebook", "instagram", "whatsapp", "email", "api")
MASTODON = channel_registry.ChannelInfo(
    "mastodon", "Mastodon", (channel_registry.Kind("toot", "post"),),
    (channel_registry.Counter("public", "characters", 500, ("mastodon_reply",)),),
    ("M4 4h16v16H4Z",), "#4c1d95")


def _auth(role="agent"):
    return {"Authorization": "Bearer " + mint("ana", role, TEST_SECRETS["LOCAL_JWT_SECRET"])}


@pytest.fixture
def with_mastodon(monkeypatch):
    from chalicelib.openapi import document

    monkeypatch.setattr(channel_registry, "CHANNELS", channel_registry.CHANNELS + (MASTODON,))
    document.cache_clear()
    yield
    document.cache_clear()


def test_the_registry_holds_the_six_platforms_each_from_its_own_package():
    import importlib

    assert channel_registry.ids() == SIX
    for channel in channel_registry.CHANNELS:
        package = importlib.import_module(f"chalicelib.channels.{channel.id}")
        assert package.CHANNEL is channel and package.ID == channel.id


def test_a_mention_names_its_channel_by_an_id_shaped_like_one_never_a_key_separator():
    from pydantic import TypeAdapter

    channel = TypeAdapter(Mention.model_fields["platform"].rebuild_annotation())
    assert [channel.validate_python(i) for i in SIX] == list(SIX)
    for bad in ("x#1", "", "X", "a" * 33, "face book"):
        with pytest.raises(ValidationError):
            channel.validate_python(bad)


def test_every_reply_action_of_the_policy_is_counted_by_the_registry():
    from chalicelib.outbound import policy

    for action, limit in policy.LIMITS.items():
        counter = channel_registry.counter_for_action(action)
        assert limit.maximum == counter.limit and limit.measure is policy.MEASURES[counter.counting][1]
    assert set(policy.LIMITS) == set(policy._NAMES)
    assert policy.LIMITS["x_reply"].maximum == 280 and policy.LIMITS["ig_dm"].unit == "bytes"


def test_get_api_channels_is_what_the_ui_draws_and_counts(desk):
    answer = desk.client.http.get("/api/channels", headers=_auth())
    assert answer.status_code == 200
    items = json.loads(answer.body)["items"]
    assert [c["id"] for c in items] == list(SIX)
    x = items[0]
    assert x["name"] == "X" and x["color"].startswith("#") and x["icon"] and x["visibilities"] == ["public", "private"]
    assert x["counter"] == {"public": {"counting": "x", "limit": 280}, "private": {"counting": "characters", "limit": 10_000}}
    assert {"id": "dm", "name": "direct message"} in x["kinds"]
    whatsapp = items[3]
    assert whatsapp["visibilities"] == ["private"] and whatsapp["counter"]["private"]["limit"] == 4_096
    assert desk.client.http.get("/api/channels").status_code == 401


def test_a_channel_added_to_the_registry_appears_in_the_api_the_document_and_validation(desk, with_mastodon):
    from chalicelib.api import InboxQuery
    from chalicelib.crm import CrmRecord
    from chalicelib.desk_settings import DEFAULTS, SlaPolicy
    from infra.package import desk_alarms

    # GET /api/channels
    items = json.loads(desk.client.http.get("/api/channels", headers=_auth()).body)["items"]
    assert items[-1]["id"] == "mastodon" and items[-1]["counter"] == {"public": {"counting": "characters", "limit": 500}}
    # the OpenAPI document: the inbox's channel filter and the accounts' platform parameter
    doc = json.loads(desk.client.http.get("/api/openapi.json", headers=_auth()).body)
    [channel] = [p for p in doc["paths"]["/api/tickets"]["get"]["parameters"] if p["name"] == "channel"]
    assert "mastodon" in json.dumps(channel["schema"])
    [platform] = [p for p in doc["paths"]["/api/accounts/{platform}/{account_id}"]["patch"]["parameters"]
                  if p["name"] == "platform"]
    assert platform["schema"]["enum"][-1] == "mastodon"
    # the inbox filter, the SLA overrides, the CRM import, the per-channel alarms
    assert InboxQuery(channel="mastodon").channel == "mastodon"
    assert desk.client.http.get("/api/tickets?channel=mastodon", headers=_auth()).status_code == 200
    sla = DEFAULTS["sla"].model_dump()
    sla["channel_overrides"] = {"mastodon": {}}
    assert SlaPolicy.model_validate(sla).channel_overrides == {"mastodon": {}}
    assert CrmRecord(platform="Mastodon", id="@ana@example.social").platform == "mastodon"
    assert "SLABreachesMastodonAlarm" in desk_alarms()


def test_an_unknown_channel_is_refused_in_the_words_of_a_literal(desk):
    from chalicelib.api import InboxQuery

    with pytest.raises(ValidationError) as refused:
        InboxQuery(channel="mastodon")
    [error] = refused.value.errors()
    assert error["type"] == "literal_error"
    assert error["msg"] == "Input should be 'x', 'facebook', 'instagram', 'whatsapp', 'email' or 'api'"
    answer = desk.client.http.get("/api/tickets?channel=mastodon", headers=_auth())
    assert answer.status_code == 400 and "channel" in json.loads(answer.body)["error"]


def test_the_ui_descriptor_is_the_registry_field_for_field():
    for channel in channel_registry.CHANNELS:
        ui = channel.ui()
        assert ui["icon"] == list(channel.icon) and ui["visibilities"] == list(channel.visibilities)
        assert set(dataclasses.asdict(channel)) >= {"id", "name", "kinds", "counters", "icon", "color"}


# A platform id as a list names it: quoted ("x", 'api'), as an object key (whatsapp: ...), a CSS class
# (.ch-email) or an enum member (WHATSAPP = ...).
_PLATFORM = r"(x|facebook|instagram|whatsapp|email|api)"
_NAMED = re.compile(rf"""["']{_PLATFORM}["']|\b{_PLATFORM}\s*:|\.ch-{_PLATFORM}\b|\b(?i:{_PLATFORM})\s*=\s""")
WINDOW = 6  # lines: a list written one platform a line


def _platforms_named(line: str) -> set[str]:
    return {next(g for g in match.groups() if g).lower() for match in _NAMED.finditer(line)}


def _lists(text: str) -> dict[int, str]:
    """Lines that start a list of the platforms: three named on one line, or four within WINDOW lines."""
    named = [_platforms_named(line) for line in text.splitlines()]
    return {number: line for number, line in enumerate(text.splitlines(), 1)
            if named[number - 1] and (len(named[number - 1]) >= 3 or len(set().union(*named[number - 1:number - 1 + WINDOW])) >= 4)}


def test_no_module_but_the_registry_keeps_its_own_list_of_the_platforms():
    # Given every source Lambda ships (the web UI's included) and the package step's alarms
    sources = [*ROOT.joinpath("chalicelib").rglob("*.py"), *ROOT.joinpath("chalicelib", "web").glob("*.js"),
               *ROOT.joinpath("chalicelib", "web").glob("*.css"), ROOT / "infra" / "package.py", ROOT / "app.py"]
    # Then none outside the registry lists the platforms
    found = {f"{path.relative_to(ROOT)}:{number}": line.strip()[:120]
             for path in sources if path.name != "registry.py"
             for number, line in _lists(path.read_text()).items()}
    assert found == {}, "a list of the platforms outside chalicelib/channels/registry.py"


def test_the_search_for_lists_finds_the_ones_that_were_there():
    for text in ('PLATFORMS = ("x", "facebook", "instagram", "whatsapp", "email", "api")',
                 'export const CHANNELS = ["x", "facebook", "instagram", "whatsapp", "email", "api"];',
                 '  x: "#111827", facebook: "#1d4ed8", instagram: "#be185d", whatsapp: "#047857",',
                 'channel: Optional[Literal["x", "facebook", "instagram"]] = None',
                 'class Platform(str, Enum):\n    X = "x"\n    FACEBOOK = "facebook"\n    INSTAGRAM = "instagram"\n'
                 '    WHATSAPP = "whatsapp"',
                 '.ch-x svg { color: #111827; }\n.ch-facebook svg { color: #1d4ed8; }\n.ch-instagram svg { }\n'
                 '.ch-whatsapp svg { }',
                 'const PATHS = {\n  x: ["M4"],\n  facebook: ["M13"],\n  instagram: ["M8"],\n  whatsapp: ["M12"],\n};'):
        assert _lists(text), text
    assert not _lists('s("rect", { x: labelW, y: y + 5, width: w })\nconst api = call("/x");')


def test_the_search_for_lists_finds_the_ones_that_were_there():
    for line in ('PLATFORMS = ("x", "facebook", "instagram", "whatsapp", "email", "api")',
                 'export const CHANNELS = ["x", "facebook", "instagram", "whatsapp", "email", "api"];',
                 '  x: "#111827", facebook: "#1d4ed8", instagram: "#be185d", whatsapp: "#047857",',
                 'channel: Optional[Literal["x", "facebook", "instagram"]] = None'):
        assert len(_platforms_named(line)) >= 3, line
    assert len(_platforms_named('s("rect", { x: labelW, y: y + 5, width: w })')) < 3
