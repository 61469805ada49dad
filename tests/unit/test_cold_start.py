"""app.py is imported by every Lambda of the app: it must not pull heavy modules at import."""
import json
import subprocess
import sys


def test_importing_the_app_loads_no_boto3_classifier_adapter_or_tracer():
    code = ("import sys, json; import app; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('boto3', 'botocore', 'jwt', 'chalicelib', 'aws_xray_sdk', 'moto'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                       text=True).stdout)
    # (the bare `botocore` package is pulled in by Powertools and costs ~1 ms; its clients are not)
    assert not [m for m in loaded if m.startswith(("boto3", "botocore.", "jwt", "moto", "aws_xray_sdk"))]
    assert not [m for m in loaded if m.startswith(("chalicelib.classify", "chalicelib.channels",
                                                   "chalicelib.pipeline", "chalicelib.store"))]
