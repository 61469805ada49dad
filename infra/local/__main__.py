"""`python -m infra.local up|bootstrap|drain|seed|token|tickets|quarantine`.

Every subcommand talks to the AWS endpoint in AWS_ENDPOINT_URL (default
http://127.0.0.1:$AWS_PORT) and honours API_PORT, SANDBOX_PORT and the secrets in the
environment, so tests and other tools can drive a running stack.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from infra.local import env


def cmd_up(args) -> int:
    from infra.local import demo, stack

    aws_port, api_port, sandbox_port = (env.port("AWS_PORT", 4566), env.port("API_PORT", 8000),
                                        env.port("SANDBOX_PORT", 8025))
    services = stack.Services()
    print(f"starting moto on :{aws_port}, platform sandbox on :{sandbox_port}", flush=True)
    services.start_moto(aws_port)
    services.start_sandbox(sandbox_port)
    if args.cognito:  # sign in through the sandbox's stand-in for a Cognito user pool
        from infra.local import cognito

        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        os.environ.update({"COGNITO_USER_POOL_ID": cognito.POOL_ID, "COGNITO_APP_CLIENT_ID": cognito.CLIENT_ID,
                           "COGNITO_JWKS_URL": f"{sandbox_url}/cognito/.well-known/jwks.json",
                           "COGNITO_HOSTED_UI_URL": f"{sandbox_url}/cognito"})
    print("bootstrap:", json.dumps(stack.bootstrap()), flush=True)
    print("seed:", json.dumps(demo.seed(stack.store())), flush=True)
    handlers = stack.load_handlers()
    from infra.local import signin  # one-click sign-in: this process only, never in a deployed app.py

    desk = stack.store()
    signin.install(handlers.app, lambda: desk, lambda: env.local_secrets()["LOCAL_JWT_SECRET"])
    services.start_api(handlers, api_port)
    api = f"http://127.0.0.1:{api_port}"
    secrets = env.local_secrets()
    demo.register_tokens(services.sandbox)  # the platforms know the brands' tokens ...
    services.sandbox.configure_echoes(secrets["X_CONSUMER_SECRET"], secrets["META_APP_SECRET"], url=api)  # ... and echo
    stack.wait_http(f"{api}/api/health")
    services.start_workers(handlers)
    if not args.no_traffic:
        from infra.local import traffic

        sent = traffic.replay(api, f"http://127.0.0.1:{sandbox_port}")
        print("traffic:", json.dumps(sent), flush=True)
    services.start_clock(handlers)
    from chalicelib.auth import mint

    token = mint("sam", "supervisor", env.local_secrets()["LOCAL_JWT_SECRET"])
    print(f"\nThe desk is up.\n  web UI:     {api}/  (pick a demo agent to sign in, or paste the token below)\n"
          f"  API:        {api}/api/tickets   (described at {api}/api/openapi.json)\n  health:     {api}/api/health\n"
          f"  sandbox:    http://127.0.0.1:{sandbox_port}/_sandbox/requests\n"
          f"  login token (supervisor 'sam'):\n{token}\n"
          f"  tickets:    python -m infra.local tickets   |   "
          f"curl -H 'Authorization: Bearer <token>' {api}/api/tickets\n"
          f"  reply:      curl -H 'Authorization: Bearer <token>' -H 'Content-Type: application/json' "
          f"-d '{{\"text\": \"Hi!\", \"visibility\": \"public\"}}' {api}/api/tickets/<id>/replies\n"
          f"              then see it at http://127.0.0.1:{sandbox_port}/_sandbox/posts\n", flush=True)
    stop = {"now": False}

    def _stop(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop["now"]:
        time.sleep(0.5)
    services.stop()
    # Nothing is left to save (moto's state lives in this process and dies with it); skip the
    # interpreter's teardown, which spends seconds collecting moto's objects one by one.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def cmd_bootstrap(args) -> int:
    from infra.local import stack

    print(json.dumps(stack.bootstrap()))
    return 0


def cmd_seed(args) -> int:
    from infra.local import demo, stack

    print(json.dumps(demo.seed(stack.store())))
    return 0


def cmd_drain(args) -> int:
    from infra.local import stack

    print(json.dumps(stack.drain(max_seconds=args.max_seconds)))
    return 0


def cmd_token(args) -> int:
    from chalicelib.auth import mint

    print(mint(args.agent, args.role, env.local_secrets()["LOCAL_JWT_SECRET"]))
    return 0


def cmd_tickets(args) -> int:
    from infra.local import stack

    for row in stack.ticket_lines(stack.store()):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def cmd_quarantine(args) -> int:
    from infra.local import stack

    for row in stack.quarantine_lines(stack.store()):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the whole desk on this machine")
    up.add_argument("--no-traffic", action="store_true", help="do not replay the demo traffic")
    up.add_argument("--cognito", action="store_true",
                    help="sign in through a stand-in Cognito hosted UI (RS256 tokens) as in AWS")
    up.set_defaults(func=cmd_up)
    sub.add_parser("bootstrap", help="create table, queues, DLQs, bucket and secrets").set_defaults(
        func=cmd_bootstrap)
    sub.add_parser("seed", help="demo brand accounts and agents").set_defaults(func=cmd_seed)
    drain = sub.add_parser("drain", help="process every queue until empty, then exit")
    drain.add_argument("--max-seconds", type=float, default=300)
    drain.set_defaults(func=cmd_drain)
    token = sub.add_parser("token", help="print a local JWT")
    token.add_argument("--agent", required=True)
    token.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent")
    token.set_defaults(func=cmd_token)
    sub.add_parser("tickets", help="every ticket, one JSON object a line").set_defaults(func=cmd_tickets)
    sub.add_parser("quarantine", help="every quarantined payload, one JSON object a line").set_defaults(
        func=cmd_quarantine)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
