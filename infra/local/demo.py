"""Demo brands, their accounts on every channel, and the agents who answer them.

`seed` writes these; the traffic replay addresses its payloads to the same account ids.
"""
from __future__ import annotations

BRANDS = {
    "nordlight": {
        "name": "Nordlight Electronics",
        "x": {"id": "1500000000000000001", "handle": "NordlightShop", "poll": True},
        "facebook": {"id": "104000000000001"},
        "instagram": {"id": "17841400000000001", "handle": "nordlight"},
        "whatsapp": {"id": "109000000000001", "display_phone_number": "+358 40 000 0001"},
        "email": {"id": "care@nordlight.example"},
        "api": {"id": "nordlight-web"},
    },
    "aegean": {
        "name": "Aegean Skies",
        "x": {"id": "1500000000000000002", "handle": "AegeanSkies", "poll": True},
        "facebook": {"id": "104000000000002"},
        "instagram": {"id": "17841400000000002", "handle": "aegeanskies"},
        "whatsapp": {"id": "109000000000002", "display_phone_number": "+30 21 0000 0002"},
        "email": {"id": "help@aegeanskies.example"},
        "api": {"id": "aegean-web"},
    },
}

AGENTS = [
    {"id": "ana", "name": "Ana Papadopoulou", "languages": ["el", "en"], "role": "agent"},
    {"id": "mikko", "name": "Mikko Virtanen", "languages": ["fi", "sv", "en"], "role": "agent"},
    {"id": "wei", "name": "Wei Zhang", "languages": ["zh", "en"], "role": "agent"},
    {"id": "layla", "name": "Layla Haddad", "languages": ["ar", "en", "fr"], "role": "agent"},
    {"id": "zofia", "name": "Zofia Nowak", "languages": ["pl", "en", "de"], "role": "agent"},
    {"id": "sam", "name": "Sam Okafor", "languages": ["en"], "role": "supervisor"},
]


def seed(store) -> dict:
    accounts = 0
    for brand_key, brand in BRANDS.items():
        for platform, account in brand.items():
            if platform == "name":
                continue
            store.put_account(platform, account["id"], brand=brand_key, name=f"{brand['name']} ({platform})",
                              status="active", **{k: v for k, v in account.items() if k != "id"})
            accounts += 1
    for agent in AGENTS:
        store.put_agent({**agent, "status": "online", "capacity": 10, "load": 0})
    return {"accounts": accounts, "agents": len(AGENTS)}
