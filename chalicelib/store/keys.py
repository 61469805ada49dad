"""The only place DynamoDB keys are built. One table, generic PK/SK, one GSI for the inbox.

| item                      | PK                              | SK                         |
| ticket                    | TICKET#<id>                     | TICKET                     |
| message of a ticket       | TICKET#<id>                     | MSG#<created iso>#<msg id> |
| dedupe of a platform id   | EXT#<platform>#<external id>    | EXT                        |
| open ticket of a thread   | CONV#<platform>#<account>#<conv>| CONV                       |
| platform identity         | IDENTITY#<platform>#<user id>   | IDENTITY                   |
| customer profile          | CUSTOMER#<id>                   | PROFILE                    |
| customer touchpoint       | CUSTOMER#<id>                   | TOUCH#<iso>#<msg id>       |
| brand account             | ACCOUNTS                        | ACCOUNT#<platform>#<id>    |
| poller cursor             | ACCOUNTS                        | POLL#<platform>#<id>       |
| quarantined payload       | QUARANTINE                      | <received iso>#<id>        |
| outbound delivery status  | OUTMSG#<platform>#<external id> | STATUS#<iso>#<status>      |
| our message of that id    | OUTMSG#<platform>#<external id> | OUT                        |
| a reply's idempotency key | TICKET#<id>                     | REPLYKEY#<key>             |
| agent                     | AGENTS                          | AGENT#<id>                 |
| priority rules, a version | RULES#<brand>                   | V#<version, 6 digits>      |
| priority rules in force   | RULES#<brand>                   | CURRENT                    |
| CRM record of an identity | CRM#<platform>#<user id|@handle>| CRM                        |
| an agent's correction     | CORRECTIONS#<brand>             | <iso>#<message id>         |
| reply template            | TEMPLATES                       | TEMPLATE#<id>              |
| team                      | TEAMS                           | TEAM#<id>                  |
| settings document         | SETTINGS                        | <sla|hours|routing>        |

GSI1 orders the inbox: GSI1PK = INBOX#<status>, GSI1SK = <100-priority>#<sla due>#<id>;
it lists replies in flight (queued to sent or failed): GSI1PK = OUTBOUND#inflight, GSI1SK = <created>#<id>;
it also groups the CRM records of one CRM customer: GSI1PK = CRMREF#<ref>, GSI1SK = <platform>#<key>.
"""
from __future__ import annotations


def ticket(ticket_id: str) -> dict:
    return {"PK": f"TICKET#{ticket_id}", "SK": "TICKET"}


def message(ticket_id: str, created_iso: str, message_id: str) -> dict:
    return {"PK": f"TICKET#{ticket_id}", "SK": f"MSG#{created_iso}#{message_id}"}


MESSAGE_PREFIX = "MSG#"


def dedupe(dedupe_key: str) -> dict:
    return {"PK": f"EXT#{dedupe_key}", "SK": "EXT"}


def conversation(conversation_key: str) -> dict:
    return {"PK": f"CONV#{conversation_key}", "SK": "CONV"}


def identity(platform: str, user_id: str) -> dict:
    return {"PK": f"IDENTITY#{platform}#{user_id}", "SK": "IDENTITY"}


def customer(customer_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": "PROFILE"}


def customer_identity(customer_id: str, platform: str, user_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": f"IDENTITY#{platform}#{user_id}"}


def touchpoint(customer_id: str, created_iso: str, message_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": f"TOUCH#{created_iso}#{message_id}"}


ACCOUNTS_PK = "ACCOUNTS"


def account(platform: str, account_id: str) -> dict:
    return {"PK": ACCOUNTS_PK, "SK": f"ACCOUNT#{platform}#{account_id}"}


def poll_cursor(platform: str, account_id: str) -> dict:
    return {"PK": ACCOUNTS_PK, "SK": f"POLL#{platform}#{account_id}"}


QUARANTINE_PK = "QUARANTINE"


def quarantine(received_iso: str, item_id: str) -> dict:
    return {"PK": QUARANTINE_PK, "SK": f"{received_iso}#{item_id}"}


def delivery_status(platform: str, external_id: str, at_iso: str, status: str) -> dict:
    return {"PK": f"OUTMSG#{platform}#{external_id}", "SK": f"STATUS#{at_iso}#{status}"}


def outbound_pointer(platform: str, external_id: str) -> dict:
    return {"PK": f"OUTMSG#{platform}#{external_id}", "SK": "OUT"}


def outbound_in_flight(created_iso: str, message_id: str) -> dict:
    return {"GSI1PK": "OUTBOUND#inflight", "GSI1SK": f"{created_iso}#{message_id}"}


def reply_key(ticket_id: str, key: str) -> dict:
    return {"PK": f"TICKET#{ticket_id}", "SK": f"REPLYKEY#{key}"}


AGENTS_PK = "AGENTS"


def agent(agent_id: str) -> dict:
    return {"PK": AGENTS_PK, "SK": f"AGENT#{agent_id}"}


TEAMS_PK = "TEAMS"


def team(team_id: str) -> dict:
    return {"PK": TEAMS_PK, "SK": f"TEAM#{team_id}"}


def settings(name: str) -> dict:
    return {"PK": "SETTINGS", "SK": name}


TEMPLATES_PK = "TEMPLATES"


def template(template_id: str) -> dict:
    return {"PK": TEMPLATES_PK, "SK": f"TEMPLATE#{template_id}"}


def inbox_index(status: str, priority: int, sla_due_iso: str, ticket_id: str) -> dict:
    return {"GSI1PK": f"INBOX#{status}", "GSI1SK": f"{100 - priority:03d}#{sla_due_iso}#{ticket_id}"}


def rules_version(brand: str, version: int) -> dict:
    return {"PK": f"RULES#{brand}", "SK": f"V#{version:06d}"}


def rules_current(brand: str) -> dict:
    return {"PK": f"RULES#{brand}", "SK": "CURRENT"}


def crm(platform: str, key: str) -> dict:
    return {"PK": f"CRM#{platform}#{key}", "SK": "CRM"}


def crm_ref_index(ref: str, platform: str, key: str) -> dict:
    return {"GSI1PK": f"CRMREF#{ref}", "GSI1SK": f"{platform}#{key}"}


def correction(brand: str, at_iso: str, message_id: str) -> dict:
    return {"PK": f"CORRECTIONS#{brand}", "SK": f"{at_iso}#{message_id}"}
