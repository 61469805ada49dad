"""Demo brands, their accounts on every channel, and the agents who answer them.

`seed` writes these; the traffic replay addresses its payloads to the same account ids.
"""
from __future__ import annotations

from pathlib import Path

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

# Each works for the brands they answer (brands are tenants: an agent sees only their brands' tickets,
# customers and settings); Ana, Zofia and Sam, the supervisor, work for both.
AGENTS = [
    {"id": "ana", "name": "Ana Papadopoulou", "languages": ["el", "en"], "role": "agent",
     "brands": ["aegean", "nordlight"]},
    {"id": "mikko", "name": "Mikko Virtanen", "languages": ["fi", "sv", "en"], "role": "agent", "brands": ["nordlight"]},
    {"id": "wei", "name": "Wei Zhang", "languages": ["zh", "en"], "role": "agent", "brands": ["nordlight"]},
    {"id": "layla", "name": "Layla Haddad", "languages": ["ar", "en", "fr"], "role": "agent", "brands": ["aegean"]},
    {"id": "zofia", "name": "Zofia Nowak", "languages": ["pl", "en", "de"], "role": "agent",
     "brands": ["aegean", "nordlight"]},
    {"id": "sam", "name": "Sam Okafor", "languages": ["en"], "role": "supervisor", "brands": ["aegean", "nordlight"]},
]


# Saved answers agents start from, in every language the brands hear.
TEMPLATES = [
    {"id": "sorry-looking", "name": "Sorry, we are looking into it", "default_language": "en", "variants": {
        "en": "Hi {{customer.name}}, I'm so sorry about this. I'm looking into it right now. – {{agent.name}}",
        "fi": "Hei {{customer.name}}, olen todella pahoillani. Selvitän asiaa juuri nyt. – {{agent.name}}",
        "el": "Γεια σας {{customer.name}}, λυπούμαστε πολύ. Το εξετάζω αυτή τη στιγμή. – {{agent.name}}",
        "zh": "{{customer.name}}您好，非常抱歉。我正在为您处理。– {{agent.name}}",
        "ar": "مرحبًا {{customer.name}}، نعتذر بشدة. أنا أتابع الأمر الآن. – {{agent.name}}",
        "pl": "Dzień dobry {{customer.name}}, bardzo przepraszam. Już się tym zajmuję. – {{agent.name}}"}},
    {"id": "order-number", "name": "Ask for the order number (privately)", "default_language": "en", "variants": {
        "en": "Could you send us your order number in a private message, {{customer.name}}? Then we can check it.",
        "fi": "Voisitko lähettää tilausnumerosi yksityisviestillä, {{customer.name}}? Tarkistamme sen heti.",
        "pl": "Czy może Pan/Pani przesłać numer zamówienia w prywatnej wiadomości? Od razu sprawdzimy."}},
    {"id": "thanks", "name": "Thanks for the kind words", "default_language": "en", "variants": {
        "en": "Thank you so much, {{customer.name}}! We'll pass it on to the team. 💛",
        "el": "Σας ευχαριστούμε πολύ, {{customer.name}}! Θα το μεταφέρουμε στην ομάδα."}},
]


# What the brands' CRM exports would say: value, recent purchases, flags; crm_ref links channels.
# Each row is the export of the brand that holds it ("brand"): a brand's agents see only theirs.
CRM = [
    {"brand": "aegean", "platform": "x", "id": "@mayatravels", "crm_ref": "AS-1001", "lifetime_value": 14200,
     "vip": True, "purchases": 10, "days_ago": 3},
    {"brand": "aegean", "platform": "instagram", "id": "@mayatravels", "crm_ref": "AS-1001"},
    {"brand": "nordlight", "platform": "x", "id": "@bigmike_games", "lifetime_value": 2600, "advocate": True,
     "purchases": 2, "days_ago": 12},
]


def crm_rows(now) -> list[dict]:
    from datetime import timedelta

    rows = []
    for row in CRM:
        row = dict(row)
        row.pop("brand", None)
        days_ago = row.pop("days_ago", None)
        if days_ago is not None:
            row["last_purchase_at"] = (now - timedelta(days=days_ago)).isoformat()
        rows.append(row)
    return rows


def seed(store) -> dict:
    from chalicelib.aggregates.account import Account
    from chalicelib.aggregates.agent import Agent

    accounts = 0
    for brand_key, brand in BRANDS.items():
        for platform, account in brand.items():
            if platform == "name":
                continue
            extra = {"callback_url": api_callback_url(account["id"])} if platform == "api" else {}
            store.accounts.put(Account.from_item({
                "brand": brand_key, "name": f"{brand['name']} ({platform})", "status": "active", **extra,
                **{k: v for k, v in account.items() if k != "id"}, "platform": platform, "account_id": account["id"]}))
            accounts += 1
    connect_accounts()
    for template in TEMPLATES:
        if not any(t["id"] == template["id"] for t in store.templates()):
            store.put_template(template, expected_version=0)
    for agent in AGENTS:
        store.agents.put(Agent.from_item({**agent, "status": "online", "capacity": 10, "load": 0}))
    from chalicelib import crm
    from chalicelib.classify.priority import DEFAULT_RULES
    from chalicelib.models import utcnow

    now = utcnow()
    for brand_key in BRANDS:  # the shipped defaults, as version 1, for the brand to edit
        if store.get_rules(brand_key) is None:
            store.put_rules(brand_key, DEFAULT_RULES.model_dump(), expected_version=0, author="seed", now=now)
    records, errors = crm.parse_rows(crm_rows(now))
    assert not errors, errors
    imported = sum(crm.import_records(store, [r for r, row in zip(records, CRM) if row["brand"] == brand_key],
                                      brand_key) for brand_key in BRANDS)
    return {"accounts": accounts, "agents": len(AGENTS), "rules": len(BRANDS), "templates": len(TEMPLATES),
            "crm_records": imported, "history": seed_history(store), "surveys": seed_surveys(store)}


def seed_surveys(store) -> int:
    """The demo brands send the CSAT survey on every channel (a brand's supervisors change it on
    the Brand settings page); a brand whose settings were saved already keeps them."""
    from chalicelib import surveys
    from chalicelib.channels import registry

    turned_on = 0
    for brand in BRANDS:
        if store.get_settings(surveys.survey_document(brand)) is None:
            store.put_settings(surveys.survey_document(brand), {"version": 0, "channels": {
                c: True for c in registry.ids()}}, "seed")
            turned_on += 1
    return turned_on


HISTORY = Path(__file__).with_name("history.jsonl")  # the brands' earlier conversations, for suggested answers


def seed_history(store) -> int:
    """The demo brands' earlier replies (infra/local/history.jsonl), imported as `python -m
    chalicelib.history import` would: the reply box suggests from them from the first ticket on.
    Idempotent (the entries' ids come from their content)."""
    from chalicelib.history.__main__ import parse
    from chalicelib.history.entries import write

    entries, errors = parse(HISTORY.read_text(encoding="utf-8").splitlines())
    assert not errors, errors
    return write(store.table, ((e, None, "import", None) for e in entries))


# -- connected accounts: the credentials replies go out with -----------------------------------
TOKEN_PLATFORMS = ("x", "facebook", "instagram", "whatsapp")


def accounts(platforms=TOKEN_PLATFORMS):
    for brand in BRANDS.values():
        for platform in platforms:
            yield platform, brand[platform]["id"]


def account_token(platform: str, account_id: str) -> str:
    """A per-checkout token for a demo account, derived from the local secret (never in code)."""
    import hashlib
    import hmac

    from infra.local import env

    key = env.local_secrets()["LOCAL_JWT_SECRET"].encode()
    return "local-" + hmac.new(key, f"{platform}:{account_id}".encode(), hashlib.sha256).hexdigest()[:32]


def api_callback_url(channel_id: str) -> str:
    from infra.local import env

    return f"http://127.0.0.1:{env.port('SANDBOX_PORT', 8025)}/hooks/{channel_id}/replies"


def connect_accounts() -> int:
    """Store each demo account's token in Secrets Manager and verify the brands' email senders."""
    import json

    from chalicelib import aws
    from chalicelib.outbound import credentials

    sm = aws.client("secretsmanager")
    for platform, account_id in accounts():
        value = json.dumps({"access_token": account_token(platform, account_id)})
        name = credentials.secret_id(platform, account_id)
        try:
            sm.create_secret(Name=name, SecretString=value)
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=name, SecretString=value)
    for brand in BRANDS.values():
        aws.client("ses").verify_email_identity(EmailAddress=brand["email"]["id"])
    return len(list(accounts()))


def register_tokens(sandbox) -> None:
    """Tell the platform sandbox which tokens are valid, and whose posts they make."""
    for platform, account_id in accounts():
        sandbox.add_token(account_token(platform, account_id), "x" if platform == "x" else "graph",
                          user_id=account_id)
