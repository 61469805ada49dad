"""The desk's Chalice app: every route and event handler, each a few lines into chalicelib.

Keep module-level imports light: every Lambda function of the app imports this file, so what
it imports is paid by every cold start. Adapters, the classifier, boto3 clients and the batch
utilities are imported where they are used.
"""
from chalice import Chalice, ChaliceUnhandledError, Rate, Response

from chalicelib.observability import logger

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


# -- webhooks: the platform's signature is the authentication ---------------------------------
@app.route("/webhooks/x", methods=["GET"])
def x_crc():
    from chalicelib.channels import x
    from chalicelib.config import secrets
    from chalicelib.errors import InvalidSignature

    token = (app.current_request.query_params or {}).get("crc_token")
    if not token:
        return _error(400, "crc_token is required")
    if not x.is_crc_token(token):  # checked before any HMAC: the answer must not sign a body
        return _error(400, "crc_token: not a token X sends (8 to 128 letters, digits, + / = _ -)")
    try:
        return x.crc_response(token, secrets().get("X_CONSUMER_SECRET"))
    except InvalidSignature:  # no consumer secret configured: X must not get a wrong token
        return _error(503, "the X channel is not configured")


@app.route("/webhooks/x", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def x_webhook():
    return _webhook("x")


@app.route("/webhooks/meta", methods=["GET"])
def meta_verify():
    from chalicelib.channels import meta
    from chalicelib.config import secrets

    challenge = meta.verify_challenge(app.current_request.query_params or {},
                                      secrets().get("META_VERIFY_TOKEN"))
    if challenge is None:
        return Response(body="forbidden", status_code=403, headers={"Content-Type": "text/plain"})
    # Echoed as text and never sniffed as HTML: the challenge is whatever the caller sent
    return Response(body=challenge, status_code=200, headers={"Content-Type": "text/plain; charset=utf-8",
                                                              "X-Content-Type-Options": "nosniff"})


@app.route("/webhooks/meta", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def meta_webhook():
    return _webhook("meta")


@app.route("/webhooks/api", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def api_channel_webhook():
    return _webhook("api")


def _webhook(channel: str) -> Response:
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


# -- agent API --------------------------------------------------------------------------------
@app.route("/api/health", methods=["GET"])
def health():
    return {"status": "ok"}


@app.route("/api/openapi.json", methods=["GET"], authorizer=desk_authorizer)
def openapi_document():
    from chalicelib.openapi import document

    _principal()
    return document()


@app.route("/api/tickets", methods=["GET"], authorizer=desk_authorizer)
def list_tickets():
    from pydantic import ValidationError

    from chalicelib import api

    principal = _principal()
    try:
        query = api.InboxQuery.model_validate(app.current_request.query_params or {})
    except ValidationError as err:
        return _invalid(err)
    try:
        return api.list_tickets(_store(), query, principal.agent_id)
    except ValueError:
        return _error(400, "cursor: not a cursor this API gave out")


@app.route("/api/tickets/{ticket_id}", methods=["GET"], authorizer=desk_authorizer)
def get_ticket(ticket_id):
    from chalicelib import api
    from chalicelib.errors import NotFound

    _principal()
    try:
        return api.get_ticket(_store(), ticket_id)
    except NotFound:
        return _error(404, "no such ticket")


@app.route("/api/tickets/{ticket_id}/corrections", methods=["POST"], authorizer=desk_authorizer)
def correct_classification(ticket_id):
    from pydantic import ValidationError

    from chalicelib import api
    from chalicelib.errors import NotFound

    principal = _principal()
    try:
        request = api.CorrectionRequest.model_validate(_body())
    except ValidationError as err:
        return _invalid(err)
    try:
        return Response(body=api.correct(_store(), ticket_id, request, principal.agent_id), status_code=201)
    except NotFound:
        return _error(404, "no such inbound message on this ticket")


@app.route("/api/tickets/{ticket_id}/replies", methods=["POST"], authorizer=desk_authorizer)
def post_reply(ticket_id):
    from pydantic import ValidationError

    from chalicelib.errors import EnqueueFailed, NotFound
    from chalicelib.outbound.policy import ReplyRefused
    from chalicelib.outbound.replies import ReplyRequest, queue_reply

    principal = _principal()
    try:
        request = ReplyRequest.model_validate(_body())
    except ValidationError as err:
        return _invalid(err)
    key = (app.current_request.headers or {}).get("idempotency-key")
    try:
        message, new = queue_reply(_store(), ticket_id, request, principal.agent_id, key)
    except NotFound as err:
        return _error(404, f"not found: {err}")
    except ReplyRefused as refused:
        return Response(body={"error": refused.reason, "field": refused.field}, status_code=422,
                        headers={"Content-Type": "application/json"})
    except EnqueueFailed:
        return _error(503, "the reply could not be queued; nothing was sent, send it again")
    return Response(body=message, status_code=202 if new else 200, headers={"Content-Type": "application/json"})


@app.route("/api/tickets/{ticket_id}", methods=["PATCH"], authorizer=desk_authorizer)
def patch_ticket(ticket_id):
    from chalicelib import tickets

    principal = _principal()
    return _action(lambda body: tickets.edit(_store(), ticket_id, tickets.TicketPatch.model_validate(body),
                                                    principal))


@app.route("/api/tickets/{ticket_id}/notes", methods=["POST"], authorizer=desk_authorizer)
def post_note(ticket_id):
    from chalicelib import tickets

    principal = _principal()
    return _action(lambda body: tickets.add_note(_store(), ticket_id, tickets.NoteRequest.model_validate(body),
                                                        principal.agent_id), status=201)


@app.route("/api/tickets/{ticket_id}/done", methods=["POST"], authorizer=desk_authorizer)
def mark_done(ticket_id):
    from chalicelib import tickets

    principal = _principal()
    return _action(lambda body: tickets.done(_store(), ticket_id, tickets.DoneRequest.model_validate(body),
                                                    principal.agent_id))


@app.route("/api/tickets/{ticket_id}/csat", methods=["POST"], authorizer=desk_authorizer)
def rate_ticket(ticket_id):
    """CSAT feeds routing: entered by a supervisor here (the customer's own answer comes from a survey)."""
    from chalicelib import tickets

    principal = _principal("supervisor")
    return _action(lambda body: tickets.rate(_store(), ticket_id, tickets.CsatRequest.model_validate(body),
                                             by=principal.agent_id), status=201)


@app.route("/api/tickets/{ticket_id}/claim", methods=["POST"], authorizer=desk_authorizer)
def claim_ticket(ticket_id):
    from chalicelib import tickets

    principal = _principal()
    return _action(lambda body: tickets.claim(_store(), ticket_id, tickets.ClaimRequest.model_validate(body),
                                                     principal.agent_id))


def _action(action, status: int = 200) -> Response:
    """Run an agent's action: 400 naming the field, 403, 404, 409 on a stale version."""
    from pydantic import ValidationError

    from chalicelib.auth import Forbidden
    from chalicelib.errors import ConcurrentUpdate, NotFound
    from chalicelib.tickets import HeldByAnother

    try:
        result = action(_body() if app.current_request.method in ("POST", "PUT", "PATCH") else {})
    except ValidationError as err:
        return _invalid(err)
    except ValueError as err:
        return _error(400, str(err))
    except NotFound as err:
        return _error(404, f"not found: {err}")
    except HeldByAnother as err:
        return _error(409, str(err))
    except ConcurrentUpdate:
        return _error(409, "it changed since you loaded it; reload and try again")
    except Forbidden as err:
        return _error(403, str(err))
    return Response(body=result, status_code=status, headers={"Content-Type": "application/json"})


@app.route("/api/agents/me/status", methods=["GET"], authorizer=desk_authorizer)
def my_status():
    from chalicelib import tickets
    from chalicelib.errors import NotFound

    principal = _principal()
    try:
        return tickets.get_presence(_store(), principal.agent_id)
    except NotFound:
        return _error(404, "you are not an agent of this desk yet; ask an admin to add you")


@app.route("/api/agents/me/status", methods=["PUT"], authorizer=desk_authorizer)
def set_my_status():
    from chalicelib import tickets

    principal = _principal()
    return _action(lambda body: tickets.set_presence(_store(), principal.agent_id,
                                                            tickets.PresenceRequest.model_validate(body)))


@app.route("/api/tickets/{ticket_id}/templates", methods=["GET"], authorizer=desk_authorizer)
def ticket_templates(ticket_id):
    from chalicelib import templates
    from chalicelib.errors import NotFound

    principal = _principal()
    try:
        return {"items": templates.for_ticket(_store(), ticket_id, principal.agent_id)}
    except NotFound:
        return _error(404, "no such ticket")


@app.route("/api/templates", methods=["GET"], authorizer=desk_authorizer)
def list_templates():
    from chalicelib import views

    _principal()
    return {"items": [views.template(t) for t in _store().templates()]}


@app.route("/api/templates/{template_id}", methods=["PUT"], authorizer=desk_authorizer)
def put_template(template_id):
    from pydantic import ValidationError

    from chalicelib import views
    from chalicelib.errors import ConcurrentUpdate
    from chalicelib.templates import Template

    _principal("admin")
    try:
        template = Template.model_validate({**(_body()), "id": template_id})
    except ValidationError as err:
        return _invalid(err)
    try:
        return views.template(_store().put_template(template.model_dump(), template.version))
    except ConcurrentUpdate:
        return _error(409, "the template changed since the version you edited; reload and retry")


@app.route("/api/templates/{template_id}", methods=["DELETE"], authorizer=desk_authorizer)
def delete_template(template_id):
    _principal("admin")
    if not _store().delete_template(template_id):
        return _error(404, "no such template")
    return Response(body="", status_code=204)


@app.route("/api/agents", methods=["GET"], authorizer=desk_authorizer)
def list_agents():
    from chalicelib import views

    _principal("supervisor")
    return {"items": [views.agent(a) for a in _store().agents()]}


@app.route("/api/reports/summary", methods=["GET"], authorizer=desk_authorizer)
def report_summary():
    from chalicelib import reports

    _principal()
    try:
        days = int((app.current_request.query_params or {}).get("days", 7))
    except ValueError:
        return _error(400, "days: give a whole number of days")
    if not 1 <= days <= 90:
        return _error(400, "days: between 1 and 90")
    return reports.summary(_store(), days)


@app.route("/api/customers/{customer_id}", methods=["GET"], authorizer=desk_authorizer)
def get_customer(customer_id):
    from chalicelib import customers

    _principal()
    return _action(lambda body: customers.view(_store(), customer_id))


@app.route("/api/customers/{customer_id}", methods=["PATCH"], authorizer=desk_authorizer)
def patch_customer(customer_id):
    from chalicelib import customers

    principal = _principal()
    return _action(lambda body: customers.edit(_store(), customer_id, customers.CustomerPatch.model_validate(body),
                                               principal))


@app.route("/api/customers/{customer_id}/merge", methods=["POST"], authorizer=desk_authorizer)
def merge_customers(customer_id):
    from chalicelib import customers

    principal = _principal("supervisor")
    return _action(lambda body: customers.merge(_store(), customer_id,
                                                customers.MergeRequest.model_validate(body).other_id,
                                                principal.agent_id))


@app.route("/api/customers/{customer_id}/merges/{merge_id}/undo", methods=["POST"], authorizer=desk_authorizer)
def undo_merge(customer_id, merge_id):
    from chalicelib import customers

    principal = _principal("supervisor")
    return _action(lambda body: customers.undo_merge(_store(), customer_id, merge_id, principal.agent_id))


@app.route("/api/customers/{customer_id}/events", methods=["POST"], authorizer=desk_authorizer)
def import_customer_events(customer_id):
    from chalicelib import customers

    _principal("supervisor")
    return _action(lambda body: customers.import_events(_store(), customer_id,
                                                        customers.EventImport.model_validate(body)), status=201)


@app.route("/api/customers/{customer_id}/erase", methods=["POST"], authorizer=desk_authorizer)
def erase_customer(customer_id):
    from chalicelib import customers

    principal = _principal("admin")
    return _action(lambda body: customers.erase(_store(), customer_id, principal.agent_id))


@app.route("/api/tickets/bulk", methods=["POST"], authorizer=desk_authorizer)
def bulk_tickets():
    from chalicelib import admin

    principal = _principal("supervisor")
    return _action(lambda body: admin.bulk(_store(), admin.BulkRequest.model_validate(body), principal))


@app.route("/api/agents/{agent_id}", methods=["PUT"], authorizer=desk_authorizer)
def put_agent(agent_id):
    from chalicelib import admin

    _principal("supervisor")
    return _action(lambda body: admin.put_agent(_store(), admin.Agent.model_validate({**body, "id": agent_id})))


@app.route("/api/agents/{agent_id}", methods=["DELETE"], authorizer=desk_authorizer)
def delete_agent(agent_id):
    _principal("supervisor")
    if not _store().delete_agent(agent_id):
        return _error(404, "no such agent")
    return Response(body="", status_code=204)


@app.route("/api/queues", methods=["GET"], authorizer=desk_authorizer)
def queue_counts():
    _principal("supervisor")
    store = _store()
    return {"statuses": {status: store.inbox_count(status) for status in ("open", "pending", "on_hold", "closed")}}


@app.route("/api/teams", methods=["GET"], authorizer=desk_authorizer)
def list_teams():
    from chalicelib import views

    _principal()
    return {"items": [views.team(t) for t in _store().teams()]}


@app.route("/api/teams/{team_id}", methods=["PUT"], authorizer=desk_authorizer)
def put_team(team_id):
    from chalicelib import admin

    _principal("supervisor")
    return _action(lambda body: admin.put_team(_store(), admin.Team.model_validate({**body, "id": team_id})))


@app.route("/api/teams/{team_id}", methods=["DELETE"], authorizer=desk_authorizer)
def delete_team(team_id):
    _principal("supervisor")
    if not _store().delete_team(team_id):
        return _error(404, "no such team")
    return Response(body="", status_code=204)


@app.route("/api/accounts", methods=["GET"], authorizer=desk_authorizer)
def list_accounts():
    from chalicelib import views

    _principal("supervisor")
    return {"items": [views.account(a) for a in _store().accounts()]}


@app.route("/api/accounts/{platform}/{account_id}", methods=["PATCH"], authorizer=desk_authorizer)
def patch_account(platform, account_id):
    from chalicelib import admin

    _principal("admin")
    return _action(lambda body: admin.patch_account(_store(), platform, account_id,
                                                    admin.AccountPatch.model_validate(body)))


@app.route("/api/settings/{name}", methods=["GET"], authorizer=desk_authorizer)
def get_settings(name):
    from chalicelib import admin

    _principal("supervisor")
    return _action(lambda body: admin.get_settings(_store(), name))


@app.route("/api/settings/{name}", methods=["PUT"], authorizer=desk_authorizer)
def put_settings(name):
    from chalicelib import admin

    principal = _principal("admin")
    return _action(lambda body: admin.put_settings(_store(), name, body, principal.agent_id))


@app.route("/api/rules/{brand}", methods=["GET"], authorizer=desk_authorizer)
def get_rules(brand):
    from chalicelib import api

    _principal()
    return api.get_rules(_store(), brand)


@app.route("/api/rules/{brand}", methods=["PUT"], authorizer=desk_authorizer)
def put_rules(brand):
    from pydantic import ValidationError

    from chalicelib import api
    from chalicelib.errors import ConcurrentUpdate

    principal = _principal("admin")
    body = _body()
    try:
        return api.put_rules(_store(), brand, body, principal.agent_id)
    except ValidationError as err:
        return _invalid(err)
    except ConcurrentUpdate:
        return _error(409, "the rules changed since the version you edited; reload and retry")


def _invalid(err) -> Response:
    """A pydantic ValidationError as a 400 naming each field and what is wrong with it."""
    return _error(400, "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in err.errors()))


class _Refused(ChaliceUnhandledError):
    """Raised from a route to answer `{"error": message}` with `status` (see _errors_as_json)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


MAX_PATH_PARAM = 256  # every id the desk gives out is far shorter; DynamoDB keys stop at 1 KB


@app.middleware("http")
def _errors_as_json(event, get_response):
    """Every refusal has the same shape as the routes' own errors: {"error": "..."}. An id in the
    path longer than any the desk makes is a 404 here, before it can reach a DynamoDB key (where
    AWS would refuse it with a ValidationException, a 500)."""
    if any(len(value) > MAX_PATH_PARAM for value in (event.uri_params or {}).values()):
        return _error(404, "not found")
    try:
        return get_response(event)
    except _Refused as refused:
        return _error(refused.status, refused.message)


def _body() -> dict:
    """The request's JSON object; anything else is a 400 in the API's error shape."""
    from chalice import BadRequestError

    try:
        body = app.current_request.json_body
    except BadRequestError:
        raise _Refused(400, "body: not valid JSON")
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _Refused(400, "body: give a JSON object")
    return body


def _principal(role: str = "agent"):
    """Who is calling, as desk_authorizer established it, and whether their role may do this."""
    from chalicelib.auth import ROLE_RANK, Forbidden, Principal

    context = (app.current_request.context or {}).get("authorizer") or {}
    if context.get("role") not in ROLE_RANK:
        raise _Refused(403, "no desk role in token")
    try:
        return Principal(agent_id=context["agent_id"], role=context["role"]).require(role)
    except Forbidden as err:
        raise _Refused(403, str(err))


def _store():
    from chalicelib import aws
    from chalicelib.store.dynamodb import DynamoStore

    return DynamoStore(aws.table())
