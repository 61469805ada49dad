"""Names on identities (issue 15, point 1), on DynamoDB (moto) and in memory alike: the pointer
tells whether an identity's name is known yet (`identity`, what the ingest worker reads before it
asks the Graph API), and a name the platform gives later replaces a profile name that was only the
identity's id, never a real one."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.aggregates.customer import Identity

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
PSID = "24680000000000011"


def test_an_identity_never_seen_is_none_and_a_seen_one_tells_its_names(customers):
    assert customers.identity("facebook", PSID) is None
    customer_id = customers.link("facebook", {"id": PSID}, NOW)
    assert customers.identity("facebook", PSID) == Identity(platform="facebook", user_id=PSID,
                                                            customer_id=customer_id)
    customers.link("facebook", {"id": PSID, "name": "Lina Haddad"}, NOW + timedelta(minutes=1))
    assert customers.identity("facebook", PSID).name == "Lina Haddad"


def test_a_profile_first_seen_by_id_takes_the_name_given_later(customers):
    customer_id = customers.link("facebook", {"id": PSID}, NOW)
    assert customers.get(customer_id).name == PSID
    customers.link("facebook", {"id": PSID, "name": "Lina Haddad"}, NOW + timedelta(minutes=1))
    assert customers.get(customer_id).name == "Lina Haddad"
    assert [i.name for i in customers.history(customer_id).identities] == ["Lina Haddad"]


def test_a_real_or_edited_name_is_never_replaced(customers):
    customer_id = customers.link("instagram", {"id": "17841490000000009", "handle": "lina.h"}, NOW)
    customers.link("instagram", {"id": "17841490000000009", "name": "Lina"}, NOW + timedelta(minutes=1))
    assert customers.get(customer_id).name == "lina.h"  # the handle was a name, not an id
    edited = customers.link("facebook", {"id": PSID}, NOW)
    customers.update(edited, 0, {"name": "Ms Haddad"})
    customers.link("facebook", {"id": PSID, "name": "Lina Haddad"}, NOW + timedelta(minutes=1))
    assert customers.get(edited).name == "Ms Haddad"


def test_a_failed_name_look_up_is_noted_on_the_pointer_only_when_there_is_one(customers):
    customers.name_asked("facebook", PSID, NOW)  # never seen: nothing to note, nothing made
    assert customers.identity("facebook", PSID) is None
    customers.link("facebook", {"id": PSID}, NOW)
    customers.name_asked("facebook", PSID, NOW + timedelta(minutes=2))
    assert customers.identity("facebook", PSID).name_asked_at == (NOW + timedelta(minutes=2)).isoformat()
    customers.link("facebook", {"id": PSID, "name": "Lina Haddad"}, NOW + timedelta(minutes=3))
    assert customers.identity("facebook", PSID).name == "Lina Haddad"
