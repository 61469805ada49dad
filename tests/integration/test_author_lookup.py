"""Mentions whose webhook names no author: the Graph API look-up, against the platform sandbox
over HTTP, with the account's token from Secrets Manager (moto) (issue 12, point 6)."""
from __future__ import annotations

import pytest

from infra.local import payloads as p
from tests.integration.conftest import GRAPH_IG as IG, GRAPH_PAGE as PAGE  # the `graph` fixture's accounts
from tests.unit.parsing import meta_parse


def page_mention(post_id: str, comment_id=None):
    [mention] = meta_parse(p.meta_payload("page", [p.meta_entry(PAGE, changes=[
        p.fb_mention_change(post_id, comment_id)])])).mentions
    return mention


def test_a_page_mention_gets_its_author_text_and_time_from_the_graph_api(graph):
    from chalicelib.outbound import authors

    # Given a Page mention in a comment, which the Graph API knows
    graph.seed_graph_objects([{"id": "42_900_7", "from": {"id": "5151", "name": "Jonas Berg"},
                               "message": "@Nordlight my lamp flickers", "created_time": "2026-11-01T09:30:00+0000"}])
    mention = page_mention("42_900", "42_900_7")
    assert authors.needs_author(mention)
    # When it is looked up
    found = authors.look_up(mention)
    # Then author, text and time come from the answer, with the page token in the header only
    assert (found.author.id, found.author.name, found.text) == ("5151", "Jonas Berg", "@Nordlight my lamp flickers")
    assert found.created_at.isoformat().startswith("2026-11-01T09:30")
    [request] = graph.requests_to("/v21.0/42_900_7")
    assert request["query"]["fields"] == "from,message,created_time" and "access_token" not in request["query"]
    assert request["headers"]["Authorization"] == "Bearer page-token-1"


def test_an_instagram_comment_mention_gets_its_author_from_mentioned_comment(graph):
    from chalicelib.outbound import authors

    graph.seed_graph_objects([{"id": "1790", "text": "@acme the zipper broke", "username": "lena.k",
                               "timestamp": "2026-11-02T10:00:00+0000"}])
    [mention] = meta_parse(p.meta_payload("instagram", [p.meta_entry(IG, changes=[
        p.ig_mention_change("18023345989012587", "1790")])])).mentions
    found = authors.look_up(mention)
    assert (found.author.id, found.author.handle, found.text) == ("username:lena.k", "lena.k", "@acme the zipper broke")
    [request] = graph.requests_to(f"/v21.0/{IG}")
    assert request["query"]["fields"] == "mentioned_comment.comment_id(1790){id,text,username,timestamp,from}"


@pytest.mark.parametrize("cause", ["unknown object", "no token", "platform down"])
def test_a_failed_look_up_is_a_typed_failure_never_a_crash(graph, cause):
    from chalicelib.outbound import authors, credentials

    mention = page_mention("42_901")
    if cause == "no token":
        mention = mention.model_copy(update={"brand_account_id": "999"})
    if cause == "platform down":
        graph.seed_graph_objects([{"id": "42_901", "from": {"id": "1", "name": "A"}}])
        graph.fail_next("/v21.0/42_901", status=503)
    credentials.reset()
    with pytest.raises(authors.LookupFailed) as failed:
        authors.look_up(mention)
    assert "token" not in failed.value.reason.lower() or cause == "no token"


def test_a_page_mention_through_the_webhook_becomes_a_ticket_of_its_real_author(graph, desk):
    from infra.local import stack
    from tests.conftest import TEST_SECRETS

    # Given two Page mentions: one the Graph API knows, one it does not
    graph.seed_graph_objects([{"id": "42_900_7", "from": {"id": "5151", "name": "Jonas Berg"},
                               "message": "@Nordlight my lamp flickers", "created_time": "2026-11-01T09:30:00+0000"}])
    body = p.encode(p.meta_payload("page", [p.meta_entry(PAGE, changes=[
        p.fb_mention_change("42_900", "42_900_7"), p.fb_mention_change("43_100")])]))
    desk.client.http.post("/webhooks/meta", body=body, headers={
        "Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])})
    # When the ingest worker runs
    desk.drain(only=("ingest_worker",))
    # Then the known one is a ticket of Jonas with his text; the unknown one is kept, author unknown
    tickets = {t["messages"][0]["platform_message_id"]: t for t in stack.ticket_lines(desk.store())}
    assert set(tickets) == {"42_900_7", "43_100"}
    jonas = desk.store().customers.history(tickets["42_900_7"]["customer_id"])
    assert [(i.platform, i.user_id) for i in jonas.identities] == [("facebook", "5151")]
    assert tickets["42_900_7"]["messages"][0]["text"] == "@Nordlight my lamp flickers"
    unknown = desk.store().customers.history(tickets["43_100"]["customer_id"])
    assert [i.user_id for i in unknown.identities] == ["unknown:43_100"]
