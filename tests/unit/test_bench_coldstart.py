"""bench/coldstart.py is the one cold-start bench: Lambda's environment, and the old name an alias."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import coldstart, coldstart_webhook  # noqa: E402


def test_the_child_gets_a_deployed_functions_environment_and_none_of_this_shell(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.setenv("AWS_PROFILE", "mine")
    monkeypatch.setenv("X_CONSUMER_SECRET", "shell")
    env = coldstart.lambda_env("http://127.0.0.1:1", "http://127.0.0.1:1/1/q")
    assert not [k for k in env if k.startswith("PYTHON")] and "AWS_PROFILE" not in env
    assert env["AWS_LAMBDA_FUNCTION_NAME"] and env["AWS_ACCESS_KEY_ID"] and env["AWS_REGION"] == coldstart.REGION
    assert env["PLATFORM_SECRET_ID"] == coldstart.SECRET_ID and "X_CONSUMER_SECRET" not in env  # as deployed
    assert env["TABLE_NAME"] and env["POWERTOOLS_LOG_LEVEL"] == "INFO"  # .chalice/config.json, prod stage
    env = coldstart.lambda_env("http://127.0.0.1:1", "http://127.0.0.1:1/1/q", secret_in_env=True)
    assert env["X_CONSUMER_SECRET"] == coldstart.X_SECRET and "PLATFORM_SECRET_ID" not in env


def test_the_event_is_a_signed_x_mention_through_api_gateway():
    event = coldstart.x_event(3)
    assert event["path"] == "/webhooks/x" and event["pathParameters"] == {"channel": "x"}
    assert event["headers"]["x-twitter-webhooks-signature"].startswith("sha256=")
    assert event["body"] != coldstart.x_event(4)["body"]  # one new mention per run


def test_the_old_name_runs_the_webhook_part_of_the_one_bench(monkeypatch):
    seen = []
    monkeypatch.setattr(coldstart, "main", lambda argv: seen.append(argv) or 0)
    coldstart_webhook.main(["--runs", "7", "--stdlib-compiled", "--secrets-manager", "--importtime"])
    coldstart_webhook.main(["--sizing"])
    assert seen == [["--runs", "7", "--importtime", "--webhook-only"], ["--sizing"]]


def test_importtime_lines_add_up_by_top_level_package():
    stderr = ("import time: self [us] | cumulative | imported package\n"
              "import time:      1000 |       3000 | pydantic\n"
              "import time:      2000 |       2000 |   pydantic.main\n"
              "import time:       500 |        500 | app\n")
    assert coldstart.import_breakdown(stderr) == [("pydantic", 3.0, 3.0), ("app", 0.5, 0.5)]
