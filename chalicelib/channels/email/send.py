"""Sending a reply by email: SES SendRawEmail with In-Reply-To, References and our own Message-ID.

The Message-ID is the same on every attempt, so a resend is safe (mail systems drop the duplicate).
The worker hands the sender its SES client (`aws:ses`): a channel package makes no AWS client.
"""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, formatdate

from chalicelib.aggregates.message import Message
from chalicelib.channels import http
from chalicelib.channels.reply import Sender
from chalicelib.errors import Permanent, Retry


def send(message: Message, ses, attempt: int = 1) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    target = message.target
    mail = EmailMessage()
    mail["From"] = target["account_id"]
    mail["To"] = formataddr((target.get("to_name") or "", target["to"]))
    mail["Subject"] = target["subject"]
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(message)  # the same on every attempt: mail systems dedupe on it
    mail["In-Reply-To"] = target["in_reply_to"]
    mail["References"] = target["references"]
    mail.set_content(message.text)
    try:
        answer = ses.send_raw_email(Source=target["account_id"], Destinations=[target["to"]],
                                    RawMessage={"Data": mail.as_bytes()})
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code in ("Throttling", "ThrottlingException", "ServiceUnavailable", "InternalFailure"):
            raise Retry(f"SES {code}", after=http.backoff(attempt), code=code) from None
        raise Permanent(f"SES refused the email: {code}: {err.response['Error'].get('Message', '')}"
                        [:http.ERROR_TEXT_LIMIT], code=code) from None
    except BotoCoreError as err:
        raise Retry(f"SES unreachable: {type(err).__name__}", after=http.backoff(attempt)) from None
    return answer["MessageId"]


def message_id(message: Message) -> str:
    domain = message.target["account_id"].rpartition("@")[2] or "desk.invalid"
    return f"<{message.id}@{domain}>"


# the CSAT survey (chalicelib/surveys.py) is a reply in the thread whose text holds the page's link
SENDERS = {"email": Sender(send, credential="aws:ses", resend_safe=True),
           "email_survey": Sender(send, credential="aws:ses", resend_safe=True)}
