"""Replay the demo corpus as real, signed platform traffic through the running desk.

Each corpus line becomes the payload its channel really sends: X Account Activity deliveries
(tweets, DMs) and Meta deliveries (Page comments, Messenger, Instagram comments and DMs,
WhatsApp) are POSTed, signed, to the webhook routes, Meta's batched as Meta batches them;
API-channel messages are signed with the channel secret; emails are published to the SES ▸ SNS
topic; `x_poll` tweets are put in the platform sandbox (under their brand's X account), where
the scheduled X poller finds them.
Two bad requests follow (an unsigned one, refused; an unknown shape, quarantined) so the
newcomer sees both paths.
"""
from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from infra.local import corpus, demo, env
from infra.local import payloads as p

META_OBJECTS = {"fb_comment": "page", "messenger": "page", "ig_comment": "instagram", "ig_dm": "instagram",
                "whatsapp": "whatsapp_business_account"}


def _num(*parts: object, digits: int = 15) -> str:
    """A stable numeric id from the corpus line, so a replay twice is deduplicated."""
    return str(int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest(), 16) % 10 ** digits)


def _post(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def build(lines: list[dict], now: datetime) -> dict:
    """Group the corpus into deliveries: {"x": [...], "meta": [...], "api": [...], "email": [...], "poll": [...]}."""
    out: dict = {"x": [], "meta": {}, "api": [], "email": [], "poll": {}, "inbound": []}
    total = len(lines)
    for i, line in enumerate(lines):
        brand = demo.BRANDS[line["brand"]]
        at = now - timedelta(minutes=2 * (total - i))
        author, text, thread = line["author"], line["text"], line.get("thread") or f"line{i}"
        channel = line["channel"]
        uid = author["id"]
        if channel == "x_tweet":  # every other one as the X Activity API delivers it, the rest as Account Activity
            tweet_event = p.xaa_mention_event if i % 2 else p.x_tweet_event
            out["x"].append(tweet_event(brand["x"]["id"], "18" + _num(i, text, digits=17),
                                        _x_author(author), text, created_at=at))
        elif channel == "x_dm":
            dm_event = p.xaa_dm_event if i % 2 else p.x_dm_event
            out["x"].append(dm_event(brand["x"]["id"], "17" + _num(i, text, digits=17),
                                     _x_author(author), text, created_at=at))
        elif channel == "x_poll":
            tweet_id = "19" + _num(i, text, digits=17)
            polled = out["poll"].setdefault(brand["x"]["id"], {"tweets": [], "users": {}})
            polled["tweets"].append({
                "id": tweet_id, "text": text, "author_id": uid, "conversation_id": tweet_id,
                "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "lang": line["lang"]})
            polled["users"][uid] = {
                "id": uid, "name": author.get("name", uid), "username": author.get("handle") or f"user{uid}",
                "verified": bool(author.get("verified")),
                "public_metrics": {"followers_count": author.get("followers", 0), "following_count": 10,
                                   "tweet_count": 100, "listed_count": 0}}
        elif channel in META_OBJECTS:
            entry_id, change, messaging = _meta_item(channel, brand, line, i, at, thread)
            key = (META_OBJECTS[channel], entry_id)
            out["meta"].setdefault(key, []).append((change, messaging))
            out["inbound"].append(_customer_wrote(channel, entry_id, uid, at, change))
        elif channel == "api":
            out["api"].append(p.api_body(f"web-{_num(i, text)}", uid, author.get("name", uid), text,
                                         thread_id=thread, created_at=at.isoformat(),
                                         channel_id=brand["api"]["id"]))
        elif channel == "email":
            root = f"{_num(thread)}@mail.example"
            own = f"{_num(i, text)}@mail.example"
            first = own == root or not line.get("thread")
            out["email"].append(p.ses_sns_message(
                _address(author), brand["email"]["id"], line.get("subject") or "Customer enquiry", text,
                own if not first else root, in_reply_to=None if first else root,
                references=None if first else root, from_name=author.get("name"), date=at))
    # Meta batches: one POST per object with every entry of that object, as Meta does.
    meta_posts: dict = {}
    for (obj, entry_id), items in out["meta"].items():
        entry = p.meta_entry(entry_id, changes=[c for c, _ in items if c],
                             messaging=[m for _, m in items if m])
        meta_posts.setdefault(obj, []).append(entry)
    out["meta"] = [p.meta_payload(obj, entries) for obj, entries in meta_posts.items()]
    return out


def _meta_item(channel: str, brand: dict, line: dict, i: int, at: datetime, thread: str):
    author, text = line["author"], line["text"]
    ts = int(at.timestamp())
    if channel == "fb_comment":
        page = brand["facebook"]["id"]
        change = p.fb_comment_change(page, _num(thread), f"{page}_{_num(i, text)}",
                                     {"id": author["id"], "name": author.get("name", "")}, text, created_time=ts)
        return page, change, None
    if channel == "messenger":
        page = brand["facebook"]["id"]
        return page, None, p.messenger_event(page, author["id"], f"m_{_num(i, text)}", text=text,
                                             timestamp_ms=ts * 1000)
    if channel == "ig_comment":
        account = brand["instagram"]["id"]
        change = p.ig_comment_change(_num(i, text, digits=17), _num(thread, digits=17),
                                     {"id": author["id"], "username": author.get("handle", "")}, text)
        return account, change, None
    if channel == "ig_dm":
        account = brand["instagram"]["id"]
        return account, None, p.ig_dm_event(account, author["id"], f"ig_{_num(i, text)}", text=text,
                                            timestamp_ms=ts * 1000)
    phone = brand["whatsapp"]["id"]
    change = p.wa_message_change(phone, author["id"], author.get("name", ""), f"wamid.{_num(i, text)}",
                                 text=text, timestamp=ts)
    return phone, change, None


def _customer_wrote(channel: str, account_id: str, user_id: str, at: datetime, change) -> dict:
    """What the platform knows and the sandbox must be told: who wrote to which account, when
    (reply windows), and which comment (one private reply per comment)."""
    platform = {"fb_comment": "facebook", "messenger": "facebook", "ig_comment": "instagram",
                "ig_dm": "instagram", "whatsapp": "whatsapp"}[channel]
    wrote = {"platform": platform, "account_id": account_id, "user_id": user_id, "at": int(at.timestamp())}
    if channel in ("fb_comment", "ig_comment"):
        value = change["value"]
        wrote["comment_id"] = value.get("comment_id") or value.get("id")
    return wrote


def _x_author(author: dict) -> dict:
    return {"id": author["id"], "name": author.get("name", ""), "handle": author.get("handle") or author["id"],
            "followers": author.get("followers", 0), "verified": bool(author.get("verified"))}


def _address(author: dict) -> str:
    return author["id"] if "@" in author["id"] else f"{author.get('handle') or author['id']}@example.com"


def replay(api_url: str, sandbox_url: str) -> dict:
    import boto3

    from infra import resources

    secrets = env.local_secrets()
    deliveries = build(corpus.load(), datetime.now(timezone.utc))
    statuses: dict = {"x": [], "meta": [], "api": [], "email": 0, "poll_seeded": 0, "bad": []}
    for payload in deliveries["x"]:
        body = p.encode(payload)
        statuses["x"].append(_post(f"{api_url}/webhooks/x", body, p.sign_x(body, secrets["X_CONSUMER_SECRET"])))
    for payload in deliveries["meta"]:
        body = p.encode(payload)
        statuses["meta"].append(_post(f"{api_url}/webhooks/meta", body,
                                      p.sign_meta(body, secrets["META_APP_SECRET"])))
    for payload in deliveries["api"]:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        statuses["api"].append(_post(f"{api_url}/webhooks/api", body,
                                     p.sign_api(body, secrets["API_CHANNEL_SECRET"])))
    if deliveries["email"]:
        sns = boto3.client("sns", region_name=os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"))
        topic = sns.create_topic(Name=resources.EMAIL_TOPIC_NAME)["TopicArn"]  # idempotent lookup
        for message in deliveries["email"]:
            sns.publish(TopicArn=topic, Message=message, Subject="Amazon SES Email Receipt Notification")
            statuses["email"] += 1
    for account_id, polled in deliveries["poll"].items():  # found later by the scheduled X poller
        body = json.dumps({"user_id": account_id, "tweets": polled["tweets"],
                           "users": list(polled["users"].values())}).encode()
        _post(f"{sandbox_url}/_sandbox/x/mentions", body, {})
        statuses["poll_seeded"] += len(polled["tweets"])
    for wrote in deliveries["inbound"]:  # so the sandbox enforces reply windows as Meta does
        _post(f"{sandbox_url}/_sandbox/inbound", json.dumps(wrote).encode(), {})
    unsigned = p.encode(p.x_tweet_event(demo.BRANDS["aegean"]["x"]["id"], "1", _x_author({"id": "1"}), "spoof"))
    statuses["bad"].append(_post(f"{api_url}/webhooks/x", unsigned, {}))
    unknown = p.encode({"object": "page", "entries": "a shape the parser has not learnt yet"})
    statuses["bad"].append(_post(f"{api_url}/webhooks/meta", unknown, p.sign_meta(unknown, secrets["META_APP_SECRET"])))
    return {"x": _tally(statuses["x"]), "meta": _tally(statuses["meta"]), "api": _tally(statuses["api"]),
            "email_published": statuses["email"], "x_poll_seeded": statuses["poll_seeded"],
            "unsigned_and_unknown": statuses["bad"]}


def _tally(codes: list[int]) -> dict:
    return {str(c): codes.count(c) for c in sorted(set(codes))}
