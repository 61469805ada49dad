"""How much do a few thousand corrections gain on a domain the base model has not seen?

A "domain" here is one UMSAB language held out of the base data: the base model is trained on
the other seven; the adapted model adds that language's train tweets as corrections (all of
them, and a first half); both are scored on its val split. Slow (a training each): run as
`python -m bench.adapt [LANG]`, not in `make bench`.
"""
from __future__ import annotations

import sys
import time


def main(lang: str = "pt") -> dict:
    from chalicelib.classify import train

    base = [e for e in train.load_umsab("train") if e[2] != lang]
    domain_train = [(t, y) for t, y, lg in train.load_umsab("train") if lg == lang]
    domain_val = [e for e in train.load_umsab("val") if e[2] == lang]
    results = {}
    for name, extra in (("base only", []), (f"+{len(domain_train) // 2} corrections", domain_train[::2]),
                        (f"+{len(domain_train)} corrections", domain_train)):
        started = time.perf_counter()
        model = train.train(base, extra_examples=extra)
        results[name] = train.evaluate(model, domain_val)["avg"] * 100
        print(f"{lang} val macro-F1, {name:<22} {results[name]:5.1f}  ({time.perf_counter() - started:.0f} s)",
              flush=True)
    return results


if __name__ == "__main__":
    main(*sys.argv[1:2])
