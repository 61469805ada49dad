"""`python -m bench suggestions`: how often the reply an agent actually sent is among the suggested
answers (hit@5, and hit@1), against a baseline of the brand's most frequent reply.

The corpus is written here, not taken from a real desk (../shared/data holds sentiment-labelled
tweets only, no replies): `corpus()` generates it deterministically (seeded) for two brands, an
online lamp shop in English and German and an airline in English, from phrase banks per intent.
What makes it less easy than it looks, on purpose:

* customers write each intent in many ways (4-8 phrasings, slots filled with order numbers,
  products, cities, greetings, "!!!", emoji, the odd typo), and intents share words ("refund" for a
  return and for a late delivery, "order" everywhere);
* agents answer an intent with its usual reply about 60% of the time, with one of two other
  wordings 28%, and with a one-off reply of their own 12% (never suggestible: it was written for
  that customer); the usual reply is sometimes sent with the customer's name, which the match
  tolerates as the desk does;
* the ticket's topic (the classifier's) is wrong or missing for 15% of conversations, history and
  test alike; replies that resolved the ticket or earned CSAT 4-5 are more often the usual ones.

Each brand's conversations are in time order; the first 80% are the history, the last 20% the
test. A test conversation reads what the route reads: the newest 200 of its (language, topic)
partition and the newest 100 of its language's (history.entries.TOPIC_READ, LANGUAGE_READ), and is
ranked by history.rank (no templates: the figure is the history's alone).

A hit: the sent reply is the same reply as a suggestion — equal after history.rank.reply_key
(case, accents, spacing, punctuation, digits, the name variable) or with word sets overlapping by
history.rank.SAME_REPLY (the ranker's own "near-identical"). The baseline suggests the brand's most
frequent reply in the history (same match); "top-5 frequent" its five most frequent, for a
like-for-like five. The ceiling is the share of test replies that are not one-offs.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from typing import Optional

SEED = 16
SPLIT = 0.8
TOPIC_NOISE = 0.15
USUAL, ALTERNATIVE = 0.60, 0.28  # the rest: a one-off reply

# brand -> language -> intents: (topic, [customer phrasings], usual reply, [alternatives])
BANKS: dict = {
    "nordlight": {
        "en": [
            ("delivery", ["where is my order {order}?", "my order {order} still hasn't arrived", "order {order} was due {day}, nothing came",
                          "tracking for {order} hasn't moved in days", "when will my {product} arrive?", "still waiting for my delivery",
                          "parcel not delivered yet, order {order}", "the courier never came with my {product}"],
             "Sorry for the wait, {name}! Your parcel is with the courier; you can follow it under Orders > Track. If it has not moved in 3 working days, reply here and we will resend it.",
             ["Apologies! Deliveries are running 2 days late this week; your order is on its way and tracking updates tonight.",
              "Thanks for your patience. Your parcel left our warehouse and arrives within 3 working days."]),
            ("refund", ["where is my refund for order {order}?", "I returned the {product}, no refund yet", "refund still not on my card",
                        "you promised a refund {day}, nothing", "how long does a refund take?", "I sent the {product} back two weeks ago, money?",
                        "my refund for the returned {product} is missing"],
             "Refunds reach your card within 5 working days of the return arriving at our warehouse. Yours arrived, so the money is on its way.",
             ["We have processed your refund today; your bank may take 3-5 days to show it.",
              "Sorry about the delay! The refund for your return has been approved and is on its way."]),
            ("product_question", ["is the {product} dimmable?", "does the {product} work with smart bulbs?", "what wattage for the {product}?",
                                  "can I use the {product} outside?", "which bulb fits the {product}?", "is the {product} available in black?"],
             "Good question! All our lamps take E27 bulbs up to 60 W and are dimmable with a dimmable LED bulb. Outdoor use: only the Terrace range.",
             ["The product page lists the bulb and wattage under Specifications; most of our lamps are E27, dimmable with LED.",
              "Yes, it works with any E27 smart bulb; the app controls brightness and colour."]),
            ("technical", ["my {product} flickers when dimmed", "the {product} doesn't turn on", "the {product} buzzes",
                           "{product} light keeps flickering!!!", "the switch on my {product} is broken", "my lamp stopped working after a week"],
             "Sorry about that! Most flicker comes from a non-dimmable bulb: please try a dimmable LED bulb. If it still flickers, we will replace the lamp under warranty.",
             ["Please try another bulb and another socket first; if the lamp still fails, send us a photo and we will replace it.",
              "That sounds like a faulty switch. We will send you a replacement lamp today, no need to return the old one."]),
            ("order", ["can I change the address on order {order}?", "I want to cancel order {order}", "can I add a {product} to my order?",
                       "wrong address on my order, help", "please cancel my order {order}", "can I still change my order?"],
             "We can change or cancel an order until it ships: please send us the order number and the change by DM and we will do it right away.",
             ["Your order has not shipped yet, so we have made the change for you.",
              "Sorry, that order has already shipped; you can return it free of charge within 30 days."]),
            ("billing", ["I was charged twice for order {order}", "double charge on my card!!", "the invoice for {order} is wrong",
                         "why was I charged {amount} EUR?", "I need an invoice for my order", "charged but the order was cancelled"],
             "Sorry about that! A second charge is a card hold that your bank releases within 3 days; if it is still there after that, send us the statement and we will refund it.",
             ["You can download the invoice under Orders > Invoice; if a detail is wrong, tell us and we will issue a new one.",
              "We have refunded the duplicate charge today."]),
            ("service_complaint", ["worst customer service ever", "nobody answers my emails", "I have been waiting a week for an answer!!",
                                   "your chat never replies", "terrible service, I want to speak to a manager"],
             "We are sorry you had to wait, {name}. This is not the service we want to give: please DM us your order number and a senior agent will handle it today.",
             ["Apologies for the silence; we are answering every message today and yours is first in line."]),
            ("praise", ["love my new {product}!", "the {product} looks amazing in my living room", "great service, thanks!",
                        "fast delivery, very happy", "best lamp shop ever"],
             "Thank you so much, {name}! We are glad you love it. Enjoy the light!",
             ["Thanks for the kind words! It made our day.", "So happy to hear that! Thank you for choosing Nordlight."]),
        ],
        "de": [
            ("delivery", ["wo ist meine Bestellung {order}?", "meine Bestellung {order} ist noch nicht angekommen",
                          "die Lieferung {order} sollte {day} kommen", "Sendungsverfolgung für {order} bewegt sich nicht",
                          "wann kommt meine {product}?", "Paket immer noch nicht da"],
             "Entschuldigung für die Wartezeit! Ihr Paket ist beim Zusteller; Sie können es unter Bestellungen > Verfolgen sehen. Bewegt es sich 3 Werktage nicht, senden wir es neu.",
             ["Die Lieferungen sind diese Woche 2 Tage verspätet; Ihre Bestellung ist unterwegs.",
              "Ihr Paket hat unser Lager verlassen und kommt in 3 Werktagen an."]),
            ("refund", ["wo bleibt meine Rückerstattung für {order}?", "ich habe die {product} zurückgeschickt, kein Geld",
                        "Rückerstattung immer noch nicht auf meiner Karte", "wie lange dauert eine Rückerstattung?",
                        "Geld für die Rücksendung fehlt"],
             "Rückerstattungen sind 5 Werktage nach Eingang der Rücksendung auf Ihrer Karte. Ihre Rücksendung ist da, das Geld ist unterwegs.",
             ["Wir haben Ihre Rückerstattung heute veranlasst; Ihre Bank braucht 3-5 Tage."]),
            ("technical", ["meine {product} flackert beim Dimmen", "die {product} geht nicht an", "die {product} brummt",
                           "Lampe funktioniert nach einer Woche nicht mehr", "Schalter der {product} kaputt"],
             "Das tut uns leid! Flackern kommt meist von einer nicht dimmbaren Birne: bitte eine dimmbare LED-Birne probieren. Sonst ersetzen wir die Lampe im Rahmen der Garantie.",
             ["Bitte schicken Sie uns ein Foto; wir senden Ihnen heute eine Ersatzlampe."]),
            ("order", ["kann ich die Adresse für {order} ändern?", "bitte Bestellung {order} stornieren",
                       "kann ich meine Bestellung noch ändern?", "falsche Adresse in der Bestellung"],
             "Bis zum Versand können wir eine Bestellung ändern oder stornieren: senden Sie uns die Bestellnummer per DM.",
             ["Ihre Bestellung ist noch nicht versandt, wir haben die Änderung vorgenommen."]),
        ],
    },
    "aegean": {
        "en": [
            ("delivery", ["my suitcase did not arrive in {city}", "lost luggage on flight {flight}", "my bag is not on the belt in {city}",
                          "where is my baggage? flight {flight}", "bag missing after landing in {city}!!", "my luggage never arrived"],
             "We're so sorry, {name}! Please file a missing-baggage report at aegean.example/bags and we will trace your suitcase within 48 hours.",
             ["Sorry! Your bag is on the next flight to {city}; we will deliver it to your address tonight.",
              "Please DM us your baggage tag number and we will check where your suitcase is."]),
            ("refund", ["my flight {flight} was cancelled, I want a refund", "refund for cancelled flight?",
                        "still no refund for flight {flight}", "how do I get my money back for {flight}?", "refund request, flight cancelled"],
             "Sorry about the cancellation. You can request a full refund at aegean.example/refund; it reaches your card within 7 days.",
             ["Your refund for the cancelled flight has been issued today.",
              "We have rebooked you on the next flight; if you prefer a refund, reply here and we will arrange it."]),
            ("order", ["can I change my seat on {flight}?", "how do I change the date of my flight?", "can I add a bag to my booking?",
                       "change name on booking", "upgrade to business on {flight}?", "add extra luggage to flight {flight}"],
             "You can change seats, dates and bags under Manage booking at aegean.example up to 24 hours before departure.",
             ["An extra checked bag is 35 EUR online and 50 EUR at the airport.", "Name changes are free within 24 hours of booking; DM us the booking code."]),
            ("technical", ["the app crashes when I check in", "can't check in online for {flight}", "boarding pass won't load",
                           "website error at payment", "app login not working"],
             "Sorry! Please update the app and try again; if check-in still fails, you can check in at the airport at no extra cost.",
             ["We had a short outage; check-in works again now."]),
            ("service_complaint", ["flight {flight} delayed 5 hours and no information!!", "terrible service at {city} airport",
                                   "nobody helped us at the gate", "delayed again, unacceptable"],
             "We are truly sorry for the delay and the lack of information, {name}. For delays over 3 hours you can claim compensation at aegean.example/claims.",
             ["Apologies for the experience; please DM us your booking code and we will look into it."]),
            ("praise", ["great flight to {city}, thanks crew!", "lovely service on {flight}", "best airline, always on time",
                        "thank you for the smooth flight"],
             "Thank you, {name}! We will pass your words on to the crew. See you on board again!",
             ["Thanks for flying with us!"]),
        ],
    },
}
SLOTS = {"product": ["Luna lamp", "Fjord pendant", "Aurora floor lamp", "desk lamp", "Terrace light", "Nova spotlight"],
         "day": ["yesterday", "on Monday", "last week", "on Friday", "two days ago"],
         "city": ["Athens", "Rhodes", "Heraklion", "Thessaloniki", "Corfu"],
         "name": ["Maria", "Jonas", "Aino", "Leo", "Sara", "Nikos", "Emma", "Omar"]}
OPENERS = ["", "", "", "hi, ", "hello! ", "@brand ", "hey ", "Hallo, "]
CLOSERS = ["", "", "", " please help", " thanks", "!!!", " 😡", " 🙏", "?"]


def _fill(rng: random.Random, text: str) -> str:
    return text.format(order=str(rng.randint(10000, 99999)), flight=f"A3 {rng.randint(100, 999)}",
                       amount=rng.randint(20, 300), **{k: rng.choice(v) for k, v in SLOTS.items() if k != "name"},
                       name=rng.choice(SLOTS["name"]))


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 12 or rng.random() > 0.15:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def corpus(per_brand_language: int = 600, seed: int = SEED) -> dict[str, list[dict]]:
    """{brand: conversations in time order}; each `{customer_text, reply_text, language, topic, resolved, csat, kind, at}`."""
    rng = random.Random(seed)
    topics = sorted({intent[0] for languages in BANKS.values() for intents in languages.values() for intent in intents})
    found: dict[str, list[dict]] = {}
    for brand, languages in BANKS.items():
        rows = []
        for language, intents in languages.items():
            weights = [1.0 / (1 + i * 0.35) for i in range(len(intents))]  # some intents far more common
            for n in range(per_brand_language):
                topic, asks, usual, alternatives = rng.choices(intents, weights)[0]
                customer = _typo(rng, rng.choice(OPENERS) + _fill(rng, rng.choice(asks)) + rng.choice(CLOSERS))
                name = rng.choice(SLOTS["name"])
                draw = rng.random()
                if draw < USUAL:
                    kind, reply = "usual", usual.replace("{name}", name if rng.random() < 0.7 else "").replace(" ,", ",").replace(", !", "!")
                    reply = _fill(rng, reply) if "{" in reply else reply
                elif draw < USUAL + ALTERNATIVE:
                    kind, reply = "alternative", _fill(rng, rng.choice(alternatives).replace("{name}", name))
                else:
                    kind = "one-off"
                    reply = (f"{name}, I checked case {rng.randint(100000, 999999)} myself: "
                             f"{rng.choice(['the warehouse', 'our partner', 'the station team', 'billing'])} "
                             f"{rng.choice(['confirms', 'will call you about', 'is fixing', 'has escalated'])} "
                             f"{rng.choice(['it today', 'your request', 'the issue', 'this by Friday'])}.")
                good = {"usual": 0.75, "alternative": 0.55, "one-off": 0.45}[kind]
                shown_topic = topic if rng.random() > TOPIC_NOISE else rng.choice(topics + [None])
                rows.append({"customer_text": customer, "reply_text": reply, "language": language, "topic": shown_topic,
                             "resolved": rng.random() < good, "csat": rng.choice([None, None, 5, 4, 3] if rng.random() < good
                                                                                  else [None, None, 1, 2, 3]),
                             "kind": kind, "at": f"2026-{1 + n * 10 // per_brand_language:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00+00:00"})
        rows.sort(key=lambda r: (r["at"], r["language"]))
        found[brand] = rows
    return found


def _bounded(history: list, language: Optional[str], topic: Optional[str]) -> list:
    """What the route reads: the newest TOPIC_READ of (language, topic), then the newest LANGUAGE_READ of the language."""
    from chalicelib.history.entries import LANGUAGE_READ, TOPIC_READ

    same = [p for p in reversed(history) if p.language == language]
    chosen = {p.id: p for p in [p for p in same if p.topic == topic][:TOPIC_READ]}
    for p in same[:LANGUAGE_READ]:
        chosen.setdefault(p.id, p)
    return list(chosen.values())


def _same(a: str, b: str) -> bool:
    from chalicelib.history.rank import SAME_REPLY, reply_key

    ka, kb = reply_key(a), reply_key(b)
    if ka == kb:
        return True
    wa, wb = set(ka.split()), set(kb.split())
    return bool(wa | wb) and len(wa & wb) / len(wa | wb) >= SAME_REPLY


def evaluate(conversations: dict[str, list[dict]]) -> dict:
    from chalicelib.history.rank import Past, Query, rank

    totals = Counter()
    timings: list[float] = []
    for brand, rows in conversations.items():
        cut = int(len(rows) * SPLIT)
        history = [Past(id=f"{brand}-{i}", customer_text=r["customer_text"], reply_text=r["reply_text"],
                        language=r["language"], topic=r["topic"], resolved=r["resolved"], csat=r["csat"], at=r["at"])
                   for i, r in enumerate(rows[:cut])]
        frequent = [reply for reply, _ in Counter(p.reply_text for p in history).most_common(5)]
        for r in rows[cut:]:
            candidates = _bounded(history, r["language"], r["topic"])
            started = time.perf_counter()
            suggested = rank(Query(r["customer_text"], r["language"], r["topic"]), candidates)
            timings.append(time.perf_counter() - started)
            totals["test"] += 1
            totals["reachable"] += r["kind"] != "one-off"
            totals["hit@5"] += any(_same(s.text, r["reply_text"]) for s in suggested)
            totals["hit@1"] += bool(suggested) and _same(suggested[0].text, r["reply_text"])
            totals["baseline"] += _same(frequent[0], r["reply_text"])
            totals["baseline@5"] += any(_same(f, r["reply_text"]) for f in frequent)
            totals["read"] = max(totals["read"], len(candidates))
        totals["history"] += cut
    n = totals["test"]
    timings.sort()
    return {"history": totals["history"], "test": n, "brands": len(conversations),
            "hit@5": totals["hit@5"] / n, "hit@1": totals["hit@1"] / n, "baseline": totals["baseline"] / n,
            "baseline_top5": totals["baseline@5"] / n, "ceiling": totals["reachable"] / n,
            "most_read": totals["read"], "rank_ms_median": statistics.median(timings) * 1000,
            "rank_ms_p95": timings[int(len(timings) * 0.95)] * 1000}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench suggestions", description="Suggested answers: hit@5 vs baseline")
    parser.add_argument("--per-brand-language", type=int, default=600)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="FILE", help="also write the corpus as an import file (JSONL)")
    args = parser.parse_args(argv)
    conversations = corpus(args.per_brand_language, args.seed)
    if args.write:
        with open(args.write, "w", encoding="utf-8") as out:
            for brand, rows in conversations.items():
                for r in rows:
                    line = {"brand": brand, "channel": "x", **{k: v for k, v in r.items() if k != "kind" and v is not None}}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
    figures = evaluate(conversations)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"Corpus: {figures['history'] + figures['test']:,} conversations of {figures['brands']} brands "
          f"(generated, seed {args.seed}): {figures['history']:,} history, {figures['test']:,} held-out test")
    print(f"Sent reply among the suggestions (hit@5): {figures['hit@5']:.1%}   first suggestion (hit@1): {figures['hit@1']:.1%}")
    print(f"Baseline, the brand's most frequent reply: {figures['baseline']:.1%}   its five most frequent: "
          f"{figures['baseline_top5']:.1%}")
    print(f"Ceiling (sent replies that were not one-offs): {figures['ceiling']:.1%}; history items read per "
          f"ticket at most {figures['most_read']}; ranking {figures['rank_ms_median']:.1f} ms median, "
          f"{figures['rank_ms_p95']:.1f} ms p95")
    return 0


if __name__ == "__main__":
    sys.exit(main())
