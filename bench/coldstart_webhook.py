"""`python -m bench.coldstart_webhook`: an alias of `python -m bench coldstart --webhook-only`.

The webhook's cold start has one bench, bench/coldstart.py (`python -m bench coldstart`); this name
stays because docs/ARCHITECTURE.md cites it. The old flags still parse: both readings (the standard
library compiled, and nothing cached) are always printed, so `--stdlib-compiled` changes nothing;
the secret comes from Secrets Manager by default, so `--secrets-manager` changes nothing either;
`--sizing` adds the handlers' rows.
"""
from __future__ import annotations

import sys

from bench import coldstart


def main(argv: list[str] | None = None) -> int:
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a not in ("--stdlib-compiled", "--secrets-manager")]
    if "--sizing" not in args:
        args.append("--webhook-only")
    return coldstart.main(args)


if __name__ == "__main__":
    sys.exit(main())
