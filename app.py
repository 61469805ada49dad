"""The desk's Chalice app: every route and event handler, each a few lines into chalicelib.

Keep module-level imports light: every Lambda function of the app imports this file, so what
it imports is paid by every cold start. Adapters, the classifier, boto3 clients and the batch
utilities are imported where they are used.
"""
from chalice import Chalice, Rate, Response

from chalicelib import answers
from chalicelib.env import serving
from chalicelib.observability import logger
from chalicelib.routes import Raised, Routes

app = Chalice(app_name="social-care-desk")

WEBHOOK_CONTENT_TYPES = ["application/json", "text/plain", "application/octet-stream",
                         "application/x-www-form-urlencoded"]


@app.authorizer(ttl_seconds=300, header="Authorization")
def desk_authorizer(auth_request):
    """The one authorizer of every /api route but health: a Cognito ID token (RS256, the pool's
    JWKS) in AWS, a local HS256 token locally and in tests. A bad or missing token is a 401 before
    any route runs; a good one passes with the agent and role, and each route checks the role
    it needs (403). API Gateway caches the answer per token for five minutes."""
    from chalice import AuthResponse

    from chalicelib.auth import Forbidden, Unauthorized, authenticate

    try:
        principal = authenticate({"authorization": auth_request.token or ""})
    except Unauthorized:
        _unauthorized()
    except Forbidden:  # signed and valid, but no desk group: the route answers 403
        return AuthResponse(routes=["*"], principal_id="none", context={"agent_id": "", "role": ""})
    return AuthResponse(routes=["*"], principal_id=principal.agent_id,
                        context={"agent_id": principal.agent_id, "role": principal.role})


def _unauthorized():
    """API Gateway answers 401 when a Lambda authorizer fails with exactly "Unauthorized";
    `chalice local` and its test client need their own error for the same answer."""
    try:
        from chalice.local import NotAuthorizedError  # not in the Lambda package
    except ImportError:
        raise Exception("Unauthorized")  # noqa: TRY002 - the message API Gateway looks for
    raise NotAuthorizedError({"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message":"Unauthorized"}')


def _answer(answer) -> Response:
    return Response(body=answer.body, status_code=answer.status,
                    headers={"Content-Type": "application/json"})


def _error(status: int, message: str) -> Response:
    return Response(body={"error": message}, status_code=status,
                    headers={"Content-Type": "application/json"})


# -- webhooks: the platform's signature is the authentication. One pair of routes for every
# channel of the registry (/webhooks/x, /webhooks/meta, /webhooks/api, ...): the channel's own
# module answers its handshake and verifies and parses its posts; an unknown one is a 404 ------
@app.route("/webhooks/{channel}", methods=["GET"])
def webhook_handshake(channel):
    from chalicelib.ingest import handshake

    answer = handshake(channel, app.current_request.query_params or {})
    if isinstance(answer.body, str):  # a challenge echoed as text, never sniffed as HTML
        return Response(body=answer.body, status_code=answer.status,
                        headers={"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"})
    return _answer(answer)


@app.route("/webhooks/{channel}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def webhook(channel):
    from chalicelib.ingest import handle_webhook

    request = app.current_request
    logger.set_correlation_id(request.context.get("requestId"))
    return _answer(handle_webhook(channel, request.raw_body, request.headers))


@app.on_sns_message(topic="social-care-inbound-email", name="email_inbound")
def email_inbound(event):
    from chalicelib.ingest import handle_email_notification

    answer = handle_email_notification(event.message, {"subject": event.subject or ""})
    if answer.status >= 500:
        raise RuntimeError("email could not be enqueued; SNS will retry")  # Lambda async retry


# -- queue workers: partial batch failures are reported (see infra/package.py) ---------------
@app.on_sqs_message(queue="social-care-ingest", batch_size=10, name="ingest_worker")
def ingest_worker(event):
    from chalicelib.pipeline import process_sqs_event

    return process_sqs_event(event.to_dict(), event.context)


@app.on_sqs_message(queue="social-care-routing", batch_size=10, name="route_worker")
def route_worker(event):
    from chalicelib.routing import process_sqs_event

    return process_sqs_event(event.to_dict(), event.context)


@app.on_sqs_message(queue="social-care-outbound", batch_size=10, name="outbound_worker")
def outbound_worker(event):
    from chalicelib.outbound.worker import process_sqs_event

    return process_sqs_event(event.to_dict(), event.context)


# -- the table's stream: ticket changes into the reports' counters and the search index. The ARN
# here is a placeholder: infra/package.py points the event at the stack's table's stream ----------
@app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:eu-west-1:123456789012:table/social-care-desk/stream/local",
                        batch_size=100, starting_position="TRIM_HORIZON", name="ticket_stream")
def ticket_stream(event):
    from chalicelib.stream import process_stream_event

    return process_stream_event(event.to_dict())


# -- schedules --------------------------------------------------------------------------------
@app.schedule(Rate(1, unit=Rate.MINUTES), name="x_mentions_poller")
def x_mentions_poller(event):
    from chalicelib import aws
    from chalicelib.poller import poll_x
    from chalicelib.store.dynamodb import DynamoStore

    return poll_x(DynamoStore(aws.table()))


@app.schedule(Rate(1, unit=Rate.MINUTES), name="sla_sweeper")
def sla_sweeper(event):
    from chalicelib import aws, sweeper
    from chalicelib.store.dynamodb import DynamoStore

    return sweeper.run(DynamoStore(aws.table()))


@app.schedule(Rate(15, unit=Rate.MINUTES), name="channel_health")
def channel_health(event):
    from chalicelib import aws
    from chalicelib.channel_health import run as check_channels
    from chalicelib.store.dynamodb import DynamoStore

    return check_channels(DynamoStore(aws.table()))


# -- web UI: static files shipped in chalicelib/web (no CDN) -----------------------------------
@app.route("/", methods=["GET"])
def web_index():
    return _static("index.html")


@app.route("/ui/{name}", methods=["GET"])
def web_asset(name):
    return _static(name)


def _static(name: str) -> Response:
    from chalicelib import web

    found = web.asset(name)
    if found is None:
        return Response(body={"error": "no such file"}, status_code=404, headers=web.headers("application/json"))
    body, content_type = found
    return Response(body=body, status_code=200, headers=web.headers(content_type))


@app.route("/auth/config", methods=["GET"])
def auth_config():
    """How the web UI signs in: Cognito's hosted UI when a pool is configured, else a pasted token."""
    import os

    from chalicelib import web
    from chalicelib.auth import cognito_pool

    pool, hosted = cognito_pool(), os.environ.get("COGNITO_HOSTED_UI_URL", "").rstrip("/")
    config = {"mode": "token"} if pool is None or not hosted else {
        "mode": "cognito", "authorize_url": f"{hosted}/oauth2/authorize", "logout_url": f"{hosted}/logout",
        "client_id": pool.client_id, "scope": "openid email profile"}
    return Response(body=config, status_code=200, headers=web.headers("application/json"))


# -- CSAT survey page (issue 16, point 4): public, no sign-in; the signed token in the address is
# the authorisation (chalicelib/surveys.py), every answer HTML under the UI's security headers ---
@app.route("/csat/{token}", methods=["GET"])
def csat_page(token):
    from chalicelib import csat

    status, body = csat.page(_store(), token)
    return _survey_page(status, body)


@app.route("/csat/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def csat_answer(token):
    from chalicelib import csat

    status, body = csat.submit(_store(), token, app.current_request.raw_body or b"")
    return _survey_page(status, body)


def _survey_page(status: int, body: str) -> Response:
    from chalicelib import web

    return Response(body=body, status_code=status, headers=web.headers("text/html; charset=utf-8"))


# -- agent API: each route declared once (chalicelib/routes.py); the OpenAPI document comes from
# the same declarations, and a view raises what goes wrong (chalicelib/answers.py answers it) ---
def _agent_brands(agent_id: str):
    """The brands on the caller's agent record (None: no record), for routes.caller."""
    agent = _store().agents.get(agent_id)
    return None if agent is None else agent.brands


agent_api = Routes(app, authorizer=desk_authorizer, brands=_agent_brands)


@agent_api.get("/api/health", "Is the API up", role=None)
def health():
    return {"status": "ok"}


@agent_api.get("/api/openapi.json", "This document")
def openapi_document():
    from chalicelib.openapi import document

    return document(tuple(agent_api.declared))


@agent_api.get("/api/channels", "The channels: name, icon, colour, reply visibilities and counters", answers="items")
def list_channels():
    from chalicelib.channels import registry as channel_registry

    return channel_registry.ui()


@agent_api.get("/api/tickets", "The inbox, by priority then SLA due", query="chalicelib.api:InboxQuery", answers="page")
def list_tickets(query, principal):
    from chalicelib import api

    return api.list_tickets(_store(), query, principal)


@agent_api.get("/api/tickets/{ticket_id}", "A ticket with messages, customer and reply options", answers="ticket",
         refusals="404")
def get_ticket(ticket_id, principal):
    from chalicelib import api

    return api.get_ticket(_store(), ticket_id, principal)


@agent_api.post("/api/tickets/{ticket_id}/corrections", "Correct the classifier", body="chalicelib.api:CorrectionRequest",
          status=201, refusals="404")
def correct_classification(ticket_id, body, principal):
    from chalicelib import api

    return api.correct(_store(), ticket_id, body, principal)


@agent_api.post("/api/tickets/{ticket_id}/replies", "Reply on the customer's platform",
          body="chalicelib.outbound.replies:ReplyRequest", status=202, refusals="404 409 422 503")
def post_reply(ticket_id, body, principal):
    """202 for a new reply; 200 for a repeat of the same `Idempotency-Key`."""
    from chalicelib.outbound.replies import queue_reply

    key = (app.current_request.headers or {}).get("idempotency-key")
    store = _store()
    principal.ticket(store.tickets, ticket_id)  # another brand's ticket: 404, as a missing one
    message, new = queue_reply(store, ticket_id, body, principal.agent_id, key, role=principal.role)
    return Response(body=message, status_code=202 if new else 200, headers={"Content-Type": "application/json"})


@agent_api.patch("/api/tickets/{ticket_id}", "Edit status, priority, tags, assignee or topic",
           body="chalicelib.tickets:TicketPatch", answers="ticket", refusals="404 409")
def patch_ticket(ticket_id, body, principal):
    from chalicelib import tickets

    return tickets.edit(_store(), ticket_id, body, principal)


@agent_api.post("/api/tickets/{ticket_id}/notes", "An internal note", body="chalicelib.tickets:NoteRequest", status=201,
          refusals="404 409")
def post_note(ticket_id, body, principal):
    from chalicelib import tickets

    return tickets.add_note(_store(), ticket_id, body, principal)


# -- issue 16, collision detection: who else is on a ticket (chalicelib/collab.py) ------------------
@agent_api.post("/api/tickets/{ticket_id}/presence", "Heartbeat while a ticket is open (viewing, typing, left); "
                "answers who else is on it", body="chalicelib.collab:HeartbeatRequest", refusals="404")
def ticket_presence(ticket_id, body, principal):
    from chalicelib import collab

    return collab.heartbeat(_store(), ticket_id, body, principal)


@agent_api.post("/api/tickets/{ticket_id}/done", "Close without a reply", body="chalicelib.tickets:DoneRequest",
          answers="ticket", refusals="404 409")
def mark_done(ticket_id, body, principal):
    from chalicelib import tickets

    return tickets.done(_store(), ticket_id, body, principal)


@agent_api.post("/api/tickets/{ticket_id}/csat", "Record the customer's rating (1-5)", role="supervisor",
          body="chalicelib.tickets:CsatRequest", status=201, refusals="404")
def rate_ticket(ticket_id, body, principal):
    """CSAT feeds routing: entered by a supervisor here (the customer's own answer comes from a survey)."""
    from chalicelib import tickets

    return tickets.rate(_store(), ticket_id, body, by=principal)


@agent_api.post("/api/tickets/{ticket_id}/claim", "Take a ticket nobody holds (409 if another agent does)",
          body="chalicelib.tickets:ClaimRequest", answers="ticket", refusals="404 409")
def claim_ticket(ticket_id, body, principal):
    from chalicelib import tickets

    return tickets.claim(_store(), ticket_id, body, principal)


@agent_api.get("/api/agents/me/status", "Your presence", refusals="404")
def my_status(principal):
    from chalicelib import tickets

    return tickets.get_presence(_store().agents, principal.agent_id)


@agent_api.put("/api/agents/me/status", "Set your presence", body="chalicelib.tickets:PresenceRequest", refusals="404")
def set_my_status(body, principal):
    from chalicelib import tickets

    return tickets.set_presence(_store(), principal.agent_id, body)


@agent_api.get("/api/tickets/{ticket_id}/templates", "Templates rendered for this ticket", answers="items",
         refusals="404")
def ticket_templates(ticket_id, principal):
    from chalicelib import templates

    return {"items": templates.for_ticket(_store(), ticket_id, principal)}


# -- suggested answers (issue 16, point 3): the brand's earlier replies and templates, ranked --
@agent_api.get("/api/tickets/{ticket_id}/suggestions", "Suggested answers: the brand's earlier replies to similar "
               "messages and its templates that fit, at most five, best first", answers="items", refusals="404")
def ticket_suggestions(ticket_id, principal):
    from chalicelib.history import suggest

    return suggest.for_ticket(_store(), ticket_id, principal)


@agent_api.get("/api/templates", "Reply templates", answers="items")
def list_templates(principal):
    from chalicelib import templates, views

    return {"items": [views.template(t) for t in templates.of_brands(_store().templates(), principal)]}


@agent_api.put("/api/templates/{template_id}", "Create or replace a template", role="admin",
         body="chalicelib.templates:Template", body_id="template_id", refusals="409")
def put_template(template_id, body):
    from chalicelib import views

    return views.template(_store().put_template(body.model_dump(exclude_none=True), body.version))


@agent_api.delete("/api/templates/{template_id}", "Delete a template", role="admin", status=204, answers=None,
            refusals="404")
def delete_template(template_id):
    _gone(_store().delete_template(template_id), f"template {template_id}")


@agent_api.get("/api/agents", "Agents with presence and load", role="supervisor", answers="items")
def list_agents(principal):
    from chalicelib import admin

    return {"items": admin.list_agents(_store().agents, principal)}


@agent_api.get("/api/reports/summary", "First response, volume, sentiment, topics", query="chalicelib.api:SummaryQuery")
def report_summary(query, principal):
    from chalicelib import reports

    return reports.summary(_store(), query.days, principal.scope)


@agent_api.get("/api/reports/tickets", "The tickets behind a report's figure as CSV, a page at a time",
               query="chalicelib.reports:ExportQuery")
def report_tickets(query, principal):
    from chalicelib import reports

    return reports.export_csv(_store(), query.days, principal.scope, query.figure(), query.limit, query.cursor)


@agent_api.get("/api/reports/staffing", "Arrivals by hour of the week, queue now, SLA by band, agents' output",
               role="supervisor", query="chalicelib.reports:StaffingQuery")
def report_staffing(query, principal):
    from chalicelib import reports

    return reports.staffing(_store(), query.days, principal.scope)


@agent_api.get("/api/customers/{customer_id}", "A customer: identities, CRM value, events, tickets", refusals="404",
               query="chalicelib.customers:CustomerQuery")
def get_customer(customer_id, query, principal):
    from chalicelib import customers

    return customers.view(_store(), customer_id, principal, query.cursor)


@agent_api.get("/api/customers/{customer_id}/duplicates", "Profiles suspected to be the same person: same email, "
               "phone or handle on another channel", answers="items", refusals="404")
def customer_duplicates(customer_id, principal):
    from chalicelib import customers

    return customers.duplicates(_store(), customer_id, principal)


@agent_api.patch("/api/customers/{customer_id}", "Edit name, tags, VIP flag, note",
           body="chalicelib.customers:CustomerPatch", refusals="404 409")
def patch_customer(customer_id, body, principal):
    from chalicelib import customers

    return customers.edit(_store(), customer_id, body, principal)


@agent_api.post("/api/customers/{customer_id}/merge", "Merge another profile into this one", role="supervisor",
          body="chalicelib.customers:MergeRequest", refusals="404 409")
def merge_customers(customer_id, body, principal):
    from chalicelib import customers

    return customers.merge(_store(), customer_id, body.other_id, principal)


@agent_api.post("/api/customers/{customer_id}/merges/{merge_id}/undo", "Undo a merge", role="supervisor",
          refusals="404 409")
def undo_merge(customer_id, merge_id, principal):
    from chalicelib import customers

    return customers.undo_merge(_store(), customer_id, merge_id, principal)


@agent_api.post("/api/customers/{customer_id}/events", "Import CRM events: calls, emails, purchases", role="supervisor",
          body="chalicelib.customers:EventImport", status=201, refusals="404")
def import_customer_events(customer_id, body, principal):
    from chalicelib import customers

    store = _store()
    customers.visible(store, customer_id, principal)
    return customers.import_events(store.customers, customer_id, body, principal)


@agent_api.post("/api/customers/{customer_id}/erase", "Erase the person, keep anonymous statistics", role="admin",
          refusals="404")
def erase_customer(customer_id, principal):
    from chalicelib import customers

    store = _store()
    customers.visible(store, customer_id, principal)
    return customers.erase(store, customer_id, principal.agent_id)


@agent_api.post("/api/tickets/bulk", "Close or assign many tickets", role="supervisor",
          body="chalicelib.admin:BulkRequest", refusals="404")
def bulk_tickets(body, principal):
    from chalicelib import admin

    return admin.bulk(_store(), body, principal)


@agent_api.put("/api/agents/{agent_id}", "Create or update an agent", role="supervisor", body="chalicelib.admin:Agent",
         body_id="agent_id")
def put_agent(agent_id, body, principal):
    from chalicelib import admin

    return admin.put_agent(_store().agents, body, principal)


@agent_api.delete("/api/agents/{agent_id}", "Remove an agent", role="supervisor", status=204, answers=None,
            refusals="404")
def delete_agent(agent_id, principal):
    from chalicelib import admin

    admin.delete_agent(_store().agents, agent_id, principal)


@agent_api.get("/api/queues", "How many tickets each status holds", role="supervisor")
def queue_counts(principal):
    """From the brands' gauges (chalicelib/counters.py): one item a brand, whatever the queue holds."""
    from chalicelib import reports

    return reports.queue_counts(_store(), principal.scope)


@agent_api.get("/api/teams", "Teams", answers="items")
def list_teams(principal):
    from chalicelib import admin

    return {"items": admin.list_teams(_store().teams, principal)}


@agent_api.put("/api/teams/{team_id}", "Create or update a team", role="supervisor", body="chalicelib.admin:Team",
         body_id="team_id")
def put_team(team_id, body, principal):
    from chalicelib import admin

    return admin.put_team(_store().teams, body, principal)


@agent_api.delete("/api/teams/{team_id}", "Remove a team", role="supervisor", status=204, answers=None, refusals="404")
def delete_team(team_id, principal):
    from chalicelib import admin

    admin.delete_team(_store().teams, team_id, principal)


@agent_api.get("/api/accounts", "Connected and discovered brand accounts", role="supervisor", answers="items")
def list_accounts(principal):
    from chalicelib import admin

    return {"items": admin.list_accounts(_store().accounts, principal)}


@agent_api.patch("/api/accounts/{platform}/{account_id}", "Connect or configure an account", role="admin",
           body="chalicelib.admin:AccountPatch", refusals="404")
def patch_account(platform, account_id, body):
    from chalicelib import admin

    return admin.patch_account(_store().accounts, platform, account_id, body)


@agent_api.get("/api/settings/{name}", "SLA policy, business hours or routing settings", role="supervisor",
         refusals="404")
def get_settings(name, principal):
    from chalicelib import admin

    return admin.settings_for(_store(), name, principal)


@agent_api.get("/api/surveys", "CSAT surveys of each of your brands: on or off per channel", role="supervisor",
               answers="items")
def list_survey_settings(principal):
    from chalicelib import surveys

    return surveys.list_settings(_store(), principal)


@agent_api.get("/api/brands/{brand}/surveys", "The brand's CSAT surveys: on or off per channel", role="supervisor",
               refusals="404")
def get_survey_settings(brand, principal):
    from chalicelib import surveys

    return surveys.get_settings(_store(), brand, principal)


@agent_api.put("/api/brands/{brand}/surveys", "Turn the brand's CSAT surveys on or off per channel (over the version "
               "edited)", role="supervisor", body="object", refusals="404 409")
def put_survey_settings(brand, body, principal):
    from chalicelib import surveys

    return surveys.put_settings(_store(), brand, body, principal)


@agent_api.get("/api/reply-settings", "After a reply: the status a ticket moves to, by default and per brand")
def reply_settings(principal):
    from chalicelib import desk_settings

    return desk_settings.after_reply(_store(), None if principal.every_brand else principal.brands)


@agent_api.get("/api/brands/{brand}/replies", "The brand's status after a reply: its own, or the desk's default",
               refusals="404")
def get_brand_reply_settings(brand, principal):
    from chalicelib import desk_settings

    return desk_settings.brand_after_reply(_store(), brand, principal)


@agent_api.put("/api/brands/{brand}/replies", "Set the brand's status after a reply (null: the desk's default), over "
               "the version read", role="supervisor", body="chalicelib.desk_settings:BrandReplyRequest",
               refusals="404 409")
def put_brand_reply_settings(brand, body, principal):
    from chalicelib import desk_settings

    return desk_settings.put_brand_after_reply(_store(), brand, body, principal)


@agent_api.put("/api/settings/{name}", "Save settings over the version edited", role="admin", body="object",
         refusals="404 409")
def put_settings(name, body, principal):
    from chalicelib import admin

    return admin.put_settings(_store(), name, body, principal.agent_id)


@agent_api.get("/api/rules/{brand}", "The brand's priority rule dictionary")
def get_rules(brand, principal):
    from chalicelib import api

    return api.get_rules(_store(), brand, principal)


@agent_api.put("/api/rules/{brand}", "Save the brand's rules over the version edited: {\"rules\": {...}}", role="admin",
         body="object", refusals="409")
def put_rules(brand, body, principal):
    from chalicelib import api

    return api.put_rules(_store(), brand, body, principal)


# -- issue 16, approval for public replies: the supervisors' queue and decisions, the brands' rules
# (chalicelib/outbound/approvals.py) -----------------------------------------------------------------
@agent_api.get("/api/approvals", "Public replies waiting for a supervisor's approval, oldest first",
               role="supervisor", query="chalicelib.outbound.approvals:ApprovalsQuery", answers="page")
def list_approvals(query, principal):
    from chalicelib.outbound import approvals

    return approvals.pending(_store(), principal, query)


@agent_api.post("/api/approvals/{message_id}/approve", "Approve a held reply, as written or edited ({text}): "
                "it is sent once", role="supervisor", body="chalicelib.outbound.approvals:ApproveRequest",
                refusals="404 409 422")
def approve_reply(message_id, body, principal):
    from chalicelib.outbound import approvals

    return approvals.approve(_store(), message_id, body, principal)


@agent_api.post("/api/approvals/{message_id}/reject", "Reject a held reply with a reason its author sees",
                role="supervisor", body="chalicelib.outbound.approvals:RejectRequest", refusals="404 409")
def reject_reply(message_id, body, principal):
    from chalicelib.outbound import approvals

    return approvals.reject(_store(), message_id, body, principal)


@agent_api.get("/api/approval-rules", "Which public replies of your brands wait for approval", role="supervisor")
def approval_rules(principal):
    from chalicelib.outbound import approvals

    return approvals.rules_for(_store(), principal)


@agent_api.put("/api/approval-rules/{brand}", "Save a brand's approval rules over the version edited: "
               "{\"version\", \"rules\"}", role="supervisor", body="object", refusals="404 409")
def put_approval_rules(brand, body, principal):
    from chalicelib.outbound import approvals

    return approvals.save_rules(_store(), brand, body, principal)


MAX_PATH_PARAM = 256  # every id the desk gives out is far shorter; DynamoDB keys stop at 1 KB


@app.middleware("http")
def _errors_as_answers(event, get_response):
    """Where errors become answers, for every route: what a view raised (carried here as
    routes.Raised) is answered as chalicelib/answers.py's table says, `{"error": ...}`; anything
    the table does not know stays a 500 and is logged. An id in the path longer than any the desk
    makes is a 404 here, before it can reach a DynamoDB key (where AWS would refuse it with a
    ValidationException, a 500)."""
    if any(len(value) > MAX_PATH_PARAM for value in (event.uri_params or {}).values()):
        return _error(404, "not found")
    serving(event.context)  # the API's own address, for links to its public pages (chalicelib/env.py)
    try:
        return get_response(event)
    except Raised as raised:
        found = answers.answer(raised.error)
        if found is None:
            raise
        status, body = found
        return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def _gone(deleted: bool, what: str) -> None:
    from chalicelib.errors import NotFound

    if not deleted:
        raise NotFound(what)


def _store():
    from chalicelib import aws
    from chalicelib.store.dynamodb import DynamoStore

    return DynamoStore(aws.table())
