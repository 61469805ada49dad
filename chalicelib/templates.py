"""Reply templates: saved answers with variables and a variant per language.

A template is `{id, name, variants: {language: text}, default_language}`; its text may use
`{{customer.name}}`, `{{customer.handle}}`, `{{agent.name}}`, `{{brand.name}}` and
`{{ticket.id}}`. Rendering for a ticket picks the variant in the ticket's language (else the
default language) and fills the variables. A customer's name is a real name only (`customer_name`):
never a platform id, which is what a profile first seen without a name holds until the platform
tells the name. A variable without a value leaves a neutral greeting in the template's own language
(`fill`): the variable goes and the punctuation around it closes up ("Hei {{customer.name}}, ..."
is "Hei, ...", "مرحبًا {{customer.name}}، ..." is "مرحبًا، ..."), and English greets "Hi there".
Saving refuses unknown variables, so an agent never sends "{{custmer.name}}" to a customer.

A template with a `brand` is that brand's: listed and rendered only for its agents and its
tickets (`of_brands`, `for_ticket`); one without is the desk's, shared by every brand.
"""
from __future__ import annotations

import re
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.customer import CustomerHistory
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import NotFound
from chalicelib.store.dynamodb import DynamoStore

VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
VARIABLES = ("customer.name", "customer.handle", "agent.name", "brand.name", "ticket.id", "reply.time")
GREETING_FALLBACK = {"en": ("(?i:hi|hello|hey)", "there")}  # "Hi {{customer.name}}" -> "Hi there"
VOCATIVE = {"ar": "يا"}  # "يا {{customer.name}}" (O ...): the particle goes with a name left out
PUNCTUATION = ",.!?;:،؛؟，。！？；："
_ID_PREFIXES = ("unknown:", "username:")


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1, max_length=80)
    variants: dict[str, str] = Field(min_length=1)
    default_language: str = "en"
    brand: Optional[str] = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # None: every brand's
    version: int = Field(default=0, ge=0)

    @field_validator("variants")
    @classmethod
    def _known_variables(cls, variants: dict[str, str]) -> dict[str, str]:
        for language, text in variants.items():
            if not re.fullmatch(r"[a-z]{2}", language):
                raise ValueError(f"variant language {language!r} is not a two-letter ISO 639-1 code")
            if not text.strip() or len(text) > 4000:
                raise ValueError(f"variant {language}: text must be 1 to 4000 characters")
            unknown = [v for v in VARIABLE.findall(text) if v not in VARIABLES]
            if unknown:
                raise ValueError(f"variant {language}: unknown variable {{{{{unknown[0]}}}}}; "
                                 f"use one of {', '.join(VARIABLES)}")
        return variants

    @model_validator(mode="after")
    def _default_exists(self) -> "Template":
        if self.default_language not in self.variants:
            raise ValueError(f"default_language {self.default_language} has no variant")
        return self


def render(template: dict, ticket: Ticket, customer: Optional[CustomerHistory], agent: Optional[Agent],
           brand_name: Optional[str] = None, reply_time: Optional[str] = None) -> dict:
    variants = template["variants"]
    language = ticket.language if ticket.language in variants else template["default_language"]
    values = {
        "customer.name": customer_name(customer),
        "customer.handle": _handle(customer),
        "agent.name": ((agent.name if agent else None) or "").split(" ")[0] or None,
        "brand.name": brand_name,
        "ticket.id": ticket.id,
        "reply.time": reply_time,
    }
    return {"id": template["id"], "name": template["name"], "language": language,
            "text": fill(variants[language], values, language)}


def fill(text: str, values: dict, language: Optional[str]) -> str:
    """`text` with each variable's value; one without a value (None or blank) is left out and the
    words and punctuation around it close up, so what remains reads as a neutral greeting in the
    text's language; in English "Hi {{customer.name}}" becomes "Hi there"."""
    def value(name: str) -> str:
        found = values.get(name)
        return str(found).strip() if found is not None and str(found).strip() else ""

    greeting = GREETING_FALLBACK.get(language or "")
    if greeting and not value("customer.name"):
        text = re.sub(rf"\b({greeting[0]})(\s+)\{{\{{\s*customer\.name\s*\}}\}}", rf"\1\2{greeting[1]}", text)
    empty = "\x00"  # marks where a variable without a value was
    text = VARIABLE.sub(lambda m: value(m.group(1)) or empty, text)
    if empty not in text:
        return text
    if language in VOCATIVE:
        text = re.sub(rf"[ \t]*\b{VOCATIVE[language]}[ \t]+\x00", empty, text)
    lines = []
    for line in text.split("\n"):
        if empty in line:
            line = re.sub(rf"[{PUNCTUATION}][ \t]*\x00(?=[ \t]*[{PUNCTUATION}])", "", line)  # "Thanks, {{x}}!" -> "Thanks!"
            line = re.sub(rf"[ \t]*\x00[ \t]*(?=[{PUNCTUATION}])", "", line)  # "Hi {{x}}, ..." -> "Hi, ..."
            line = re.sub(r"^[ \t]*\x00[ \t]*", "", line)  # "{{x}}您好" -> "您好"
            line = re.sub(r"[ \t]*[–—-]?[ \t]*\x00[ \t]*$", "", line)  # "... – {{agent.name}}" -> "..."
            line = re.sub(r"[ \t]*\x00", "", line)
            line = re.sub(rf"^[{PUNCTUATION}][ \t]*", "", line) if line[:1] in PUNCTUATION else line
        lines.append(line)
    return "\n".join(lines)


def customer_name(customer: Optional[CustomerHistory]) -> Optional[str]:
    """The customer's real name: the profile's (an agent's edit, or the name the customer was first
    seen with), else one an identity was given since (the platform's profile, looked up by the
    ingest worker); never an id, which a profile first seen without a name holds. None: not known."""
    if customer is None:
        return None
    ids = {i.user_id for i in customer.identities}
    for name in [customer.customer.name, *(i.name for i in customer.identities)]:
        if name and name.strip() and not looks_like_id(name, ids):
            return name.strip()
    return None


def looks_like_id(name: str, ids=()) -> bool:
    """A platform's id rather than a person's name: one of the customer's user ids, a bare number
    (Messenger PSIDs, Instagram IGSIDs, WhatsApp numbers), or a placeholder for an unknown author."""
    name = name.strip()
    return name in ids or name.lstrip("+").isdigit() or name.startswith(_ID_PREFIXES)


def _handle(customer: Optional[CustomerHistory]) -> Optional[str]:
    for identity in customer.identities if customer else []:
        if identity.handle:
            return "@" + identity.handle.lstrip("@")
    return None


def of_brands(items: list[dict], principal) -> list[dict]:
    """The templates the caller may see: their brands' and the desk's (none for a caller of no brand)."""
    return [t for t in items if principal.sees(t.get("brand")) or (t.get("brand") is None
                                                                   and (principal.every_brand or principal.brands))]


def for_ticket(store: DynamoStore, ticket_id: str, principal) -> list[dict]:
    """The templates of the ticket's brand and the desk's, rendered for it; NotFound for a ticket
    not of the caller's brands."""
    return _for(store, principal.ticket(store.tickets, ticket_id), principal.agent_id)


def _for(store: DynamoStore, ticket: Ticket, agent_id: str) -> list[dict]:
    customer = store.customers.history(ticket.customer_id) if ticket.customer_id else None
    return for_customer(store, ticket, agent_id, customer)


def for_customer(store: DynamoStore, ticket: Ticket, agent_id: str, customer) -> list[dict]:
    """The templates of the ticket's brand and the desk's, rendered for it with `customer` (its
    profile as the caller has read it, or None)."""
    agent = store.agents.get(agent_id)
    account = store.accounts.get(ticket.channel, ticket.brand_account_id) if ticket.channel else None
    brand = ((account.name or "").split(" (")[0] or account.brand) if account else None
    return [render(t, ticket, customer, agent, brand) for t in store.templates() if t.get("brand") in (None, ticket.brand)]


def rendered(store: DynamoStore, ticket_id: str, template_id: str, agent_id: str) -> dict:
    """One template rendered for the ticket (the reply path, which has read the ticket in the
    caller's brands): NotFound for no such template, or another brand's."""
    ticket = store.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(ticket_id)
    match = [t for t in _for(store, ticket, agent_id) if t["id"] == template_id]
    if not match:
        raise NotFound(f"template {template_id}")
    return match[0]
