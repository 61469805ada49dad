"""`GET /api/tickets?count=true`: the inbox's first page says how many tickets the status holds,
so the desk shows 54, never "50+" (issue 15)."""
from __future__ import annotations

import pytest

from chalicelib import api
from chalicelib.aggregates.ticket import Ticket
from chalicelib.auth import Principal
from chalicelib.store import keys
from chalicelib.store.memory import MemoryStore

AT = "2026-11-24T10:00:00+00:00"
DUE = "2026-11-24T11:00:00.000000+00:00"
ANA = Principal("ana", "agent", frozenset({"acme"}))


def _ticket(desk: MemoryStore, ticket_id: str, brand: str = "acme", status: str = "open") -> None:
    new = Ticket.opened(ticket_id, channel="x", kind="mention", brand=brand, brand_account_id="b1",
                        conversation_key=f"conv-{ticket_id}", opened_by=f"x#{ticket_id}", customer_id="c1",
                        now_iso=AT, first_inbound_at=AT, clocks={"sla_due_at": DUE}, visibility="public",
                        language="en", topic="delivery", subject=None)
    desk.tickets.open_for(new.conversation_key, new)
    desk.tickets.update(ticket_id, 0, {"status": status, **keys.inbox_index(status, 40, DUE, ticket_id)})


@pytest.fixture
def desk() -> MemoryStore:
    desk = MemoryStore()
    for i in range(54):
        _ticket(desk, f"t{i:02}")
    _ticket(desk, "p1", status="pending")
    _ticket(desk, "other", brand="globex")  # another brand's ticket never counts
    return desk


def test_the_first_page_says_how_many_the_status_holds_in_the_callers_brands(desk):
    page = api.list_tickets(desk, api.InboxQuery(limit=50, count=True), ANA)
    assert len(page["items"]) == 50 and page["next_cursor"] and page["total"] == 54
    assert api.list_tickets(desk, api.InboxQuery(status="pending", count=True), ANA)["total"] == 1


def test_no_total_unless_asked_nor_on_a_later_page_nor_under_filters_it_would_ignore(desk):
    first = api.list_tickets(desk, api.InboxQuery(limit=50), ANA)
    assert "total" not in first
    later = api.list_tickets(desk, api.InboxQuery(limit=50, cursor=first["next_cursor"], count=True), ANA)
    assert "total" not in later and len(later["items"]) == 4
    assert "total" not in api.list_tickets(desk, api.InboxQuery(assignee="me", count=True), ANA)


def test_the_count_flag_is_read_from_the_query_string():
    assert api.InboxQuery.model_validate({"count": "true"}).count is True
