"""What a route raises becomes its answer in one place (app.py's HTTP middleware, answers.TABLE),
through Chalice's own request handling: its test client here, `chalice local` in test_openapi.py."""
from __future__ import annotations

import json

from chalicelib.auth import mint
from tests.conftest import TEST_SECRETS


def _headers(role: str = "admin") -> dict:
    return {"Authorization": f"Bearer {mint('ana', role, TEST_SECRETS['LOCAL_JWT_SECRET'])}",
            "Content-Type": "application/json"}


def test_a_missing_ticket_is_a_404_in_the_error_shape(desk):
    answer = desk.client.http.get("/api/tickets/t-nope", headers=_headers())
    assert answer.status_code == 404 and json.loads(answer.body) == {"error": "not found: t-nope"}


def test_a_body_that_is_not_json_or_not_an_object_is_a_400_naming_the_body(desk):
    for raw, said in ((b"{not json", "body: not valid JSON"), (b"[1, 2]", "body: give a JSON object")):
        answer = desk.client.http.post("/api/tickets/t-1/notes", headers=_headers(), body=raw)
        assert answer.status_code == 400 and json.loads(answer.body) == {"error": said}


def test_a_model_refusal_names_each_field(desk):
    answer = desk.client.http.patch("/api/tickets/t-1", headers=_headers(), body=json.dumps({"priority": 500}))
    assert answer.status_code == 400
    error = json.loads(answer.body)["error"]
    assert "version: " in error and "priority: " in error


def test_a_query_refusal_names_the_field(desk):
    for query in ("days=many", "days=0", "days=91"):
        answer = desk.client.http.get(f"/api/reports/summary?{query}", headers=_headers())
        assert answer.status_code == 400 and json.loads(answer.body)["error"].startswith("days: "), query
    answer = desk.client.http.get("/api/tickets?cursor=bm90LWEtY3Vyc29y", headers=_headers())
    assert json.loads(answer.body) == {"error": "cursor: not a cursor this API gave out"}


def test_a_role_below_the_routes_need_is_a_403_saying_which_role(desk):
    answer = desk.client.http.get("/api/agents", headers=_headers("agent"))
    assert answer.status_code == 403 and json.loads(answer.body) == {"error": "supervisor role required"}


def test_a_deleted_nothing_is_a_404_and_a_delete_is_an_empty_204(desk):
    assert desk.client.http.delete("/api/teams/nobody", headers=_headers()).status_code == 404
    desk.client.http.put("/api/teams/care", headers=_headers(), body=json.dumps({"name": "Care"}))
    gone = desk.client.http.delete("/api/teams/care", headers=_headers())
    assert gone.status_code == 204 and gone.body == b""


def test_a_bug_stays_a_500_and_is_not_dressed_up_as_a_refusal(desk, monkeypatch):
    from chalicelib import api

    def broken(store, brand):
        raise KeyError("PK")

    monkeypatch.setattr(api, "get_rules", broken)
    answer = desk.client.http.get("/api/rules/nordlight", headers=_headers())
    assert answer.status_code == 500 and "error" not in json.loads(answer.body)


def test_an_id_longer_than_any_the_desk_makes_is_a_404_before_any_route_runs(desk, monkeypatch):
    from chalicelib import api

    monkeypatch.setattr(api, "get_rules", lambda store, brand: (_ for _ in ()).throw(AssertionError("ran")))
    answer = desk.client.http.get(f"/api/rules/{'a' * 257}", headers=_headers())
    assert answer.status_code == 404 and json.loads(answer.body) == {"error": "not found"}
