"""Command line for the mention classifier.

    python -m chalicelib.classify predict FILE [--model PATH] [--out PATH]
    python -m chalicelib.classify adapt EXAMPLES.jsonl --out PATH

`predict` reads one text a line (UTF-8; "-" is standard input) and writes one JSON object a
line, in input order, so output line N belongs to input line N (an empty line gets an object
too). Only the line's terminator ("\\n" or "\\r\\n") is removed; the text is otherwise kept as
is (a "\\u2019" written out in the file stays six characters). Each object has exactly:

    sentiment               "negative" | "neutral" | "positive"
    sentiment_score         -1..1
    language                ISO 639-1 code or null
    actionable              true | false
    actionable_confidence   0..1
    topic                   one of chalicelib.classify.TOPICS
    urgency                 list of flag names (chalicelib.classify.URGENCY_FLAGS)
    priority_hints          {rule: points, ..., "score": 0..100}: the factors of
                            priority.prioritise(c, followers=None, verified=None, public=True)

`--model PATH` selects a sentiment model file: it is handed to the classifier as the
environment variable SENTIMENT_MODEL_PATH before the first text is classified.

`adapt` validates a JSONL file of labelled examples, one object a line:
{"text": str, "sentiment": "negative"|"neutral"|"positive", "topic"?: str, "actionable"?: bool}
(blank lines are skipped; other keys are refused). Every bad line is reported with its line
number and nothing is trained (exit 1). Valid examples go to
`chalicelib.classify.train.adapt(examples, out_path)` as a list of dicts; when that module is
not available the command exits with code 3 and trains nothing.

Exit codes: 0 done, 1 bad input (unreadable file, invalid examples), 2 usage error,
3 training unavailable.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import BinaryIO, Iterator, TextIO

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_NO_TRAINING = 0, 1, 2, 3
MAX_REPORTED = 50  # bad lines listed by `adapt`; the rest are counted
_FLUSH_EVERY = 256  # output lines per write


def _lines(stream: BinaryIO) -> Iterator[str]:
    """Text lines without their terminator, split on "\\n" only (a lone "\\r" or U+2028 in a
    text does not start a new line, so output lines stay aligned with `wc -l`)."""
    first = True
    for raw in stream:
        if raw.endswith(b"\n"):
            raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
        text = raw.decode("utf-8-sig" if first else "utf-8", errors="replace")
        first = False
        yield text


def _open_input(path: str) -> BinaryIO:
    return sys.stdin.buffer if path == "-" else open(path, "rb")


def predict_one(text: str) -> dict:
    """The CLI's output object for one text."""
    from . import classify
    from .priority import prioritise

    c = classify(text)
    p = prioritise(c, followers=None, verified=None, public=True)
    hints: dict[str, int] = {}
    for f in p.factors:
        hints[f.rule] = hints.get(f.rule, 0) + f.points
    hints["score"] = p.score
    return {
        "sentiment": c.sentiment,
        "sentiment_score": c.sentiment_score,
        "language": c.language,
        "actionable": c.actionable,
        "actionable_confidence": c.actionable_confidence,
        "topic": c.topic,
        "urgency": list(c.urgency),
        "priority_hints": hints,
    }


def cmd_predict(args: argparse.Namespace, out: TextIO) -> int:
    if args.model is not None:
        if not os.path.isfile(args.model):
            print(f"predict: model file not found: {args.model}", file=sys.stderr)
            return EXIT_BAD_INPUT
        os.environ["SENTIMENT_MODEL_PATH"] = os.path.abspath(args.model)
    try:
        stream = _open_input(args.file)
    except OSError as e:
        print(f"predict: cannot read {args.file}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    dumps = json.dumps
    sink = open(args.out, "w", encoding="utf-8", newline="\n") if args.out else out
    try:
        batch: list[str] = []
        for text in _lines(stream):
            batch.append(dumps(predict_one(text), ensure_ascii=False))
            if len(batch) >= _FLUSH_EVERY:
                sink.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            sink.write("\n".join(batch) + "\n")
        sink.flush()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
        if sink is not out:
            sink.close()
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# adapt


def _example_model():
    from typing import Literal, Optional

    from pydantic import BaseModel, ConfigDict, Field

    class Example(BaseModel):
        """One labelled example for adapting the classifier to a brand."""

        model_config = ConfigDict(extra="forbid", strict=True)

        text: str = Field(min_length=1)
        sentiment: Literal["negative", "neutral", "positive"]
        topic: Optional[str] = Field(default=None, min_length=1)
        actionable: Optional[bool] = None

    return Example


def validate_examples(stream: BinaryIO) -> tuple[list[dict], list[tuple[int, str]]]:
    """(valid examples as dicts, [(line number, problem)]); blank lines are skipped."""
    from pydantic import ValidationError

    Example = _example_model()
    examples: list[dict] = []
    errors: list[tuple[int, str]] = []
    for lineno, line in enumerate(_lines(stream), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append((lineno, f"not JSON: {e.msg} at column {e.colno}"))
            continue
        if not isinstance(obj, dict):
            errors.append((lineno, f"expected a JSON object, got {type(obj).__name__}"))
            continue
        try:
            ex = Example.model_validate(obj)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(object)'}: {err['msg']}" for err in e.errors())
            errors.append((lineno, problems))
            continue
        if not ex.text.strip():
            errors.append((lineno, "text: is blank"))
            continue
        examples.append(ex.model_dump(exclude_none=True))
    return examples, errors


def cmd_adapt(args: argparse.Namespace, out: TextIO) -> int:
    try:
        stream = _open_input(args.examples)
    except OSError as e:
        print(f"adapt: cannot read {args.examples}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        examples, errors = validate_examples(stream)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if errors:
        for lineno, problem in errors[:MAX_REPORTED]:
            print(f"{args.examples}:{lineno}: {problem}", file=sys.stderr)
        if len(errors) > MAX_REPORTED:
            print(f"... and {len(errors) - MAX_REPORTED} more bad lines", file=sys.stderr)
        print(f"adapt: {len(errors)} bad line(s), {len(examples)} valid; nothing was trained",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if not examples:
        print(f"adapt: {args.examples} holds no examples; nothing was trained", file=sys.stderr)
        return EXIT_BAD_INPUT

    try:
        from . import train
        adapt = train.adapt
    except (ImportError, AttributeError) as e:
        print(f"adapt: training is not available in this build (chalicelib.classify.train.adapt "
              f"could not be loaded: {e}); {len(examples)} example(s) validated, nothing was trained",
              file=sys.stderr)
        return EXIT_NO_TRAINING

    result = adapt(examples, args.out)
    summary = {"examples": len(examples), "out": str(args.out)}
    if isinstance(result, dict):
        summary.update(result)
    elif result is not None:
        summary["result"] = str(result)
    out.write(json.dumps(summary, ensure_ascii=False, default=str) + "\n")
    return EXIT_OK


# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.classify",
        description="Classify customer mentions (sentiment, language, actionable, topic, urgency, "
                    "priority) or adapt the classifier to a brand's labelled examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  python -m chalicelib.classify predict mentions.txt > predictions.jsonl\n"
               "  python -m chalicelib.classify predict - --model brand.bin < mentions.txt\n"
               "  python -m chalicelib.classify adapt labelled.jsonl --out brand.bin\n\n"
               "exit codes: 0 done, 1 bad input, 2 usage error, 3 training unavailable",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{predict,adapt,adapt-brand}")

    p = sub.add_parser(
        "predict", help="classify one text per line, write one JSON object per line",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Classify FILE (UTF-8, one text a line; '-' for standard input) and write one "
                    "JSON object a line, aligned with the input (an empty line yields an object "
                    "too). Only the line terminator is removed from each text.",
        epilog="output fields:\n"
               "  sentiment              negative | neutral | positive\n"
               "  sentiment_score        -1..1\n"
               "  language               ISO 639-1 code or null\n"
               "  actionable             needs a reply (bool)\n"
               "  actionable_confidence  0..1\n"
               "  topic                  order, delivery, refund, billing, account, technical,\n"
               "                         product_question, service_complaint, praise, other\n"
               "  urgency                flags: outage, safety, legal, churn, urgent, repeated_contact\n"
               "  priority_hints         {rule: points, ..., \"score\": 0..100} for a public mention\n"
               "                         by an author of unknown reach (shipped priority rules)",
    )
    p.add_argument("file", metavar="FILE", help="input text file, one text a line; '-' = stdin")
    p.add_argument("--model", metavar="PATH",
                   help="sentiment model file to use instead of the shipped one "
                        "(passed to the classifier as SENTIMENT_MODEL_PATH)")
    p.add_argument("-o", "--out", metavar="PATH", help="write the JSON lines here instead of stdout")
    p.set_defaults(func=cmd_predict)

    a = sub.add_parser(
        "adapt", help="validate labelled examples and train a brand-adapted model from them",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Validate EXAMPLES (JSONL, one object a line: {\"text\": str, \"sentiment\": "
                    "\"negative\"|\"neutral\"|\"positive\", \"topic\"?: str, \"actionable\"?: bool}; "
                    "blank lines skipped, other keys refused), report every bad line with its "
                    "number, and - only when all lines are valid - train with "
                    "chalicelib.classify.train.adapt and write the model to --out.",
    )
    a.add_argument("examples", metavar="EXAMPLES.jsonl", help="labelled examples; '-' = stdin")
    a.add_argument("--out", required=True, metavar="PATH", help="where to write the adapted model")
    a.set_defaults(func=cmd_adapt)
    b = sub.add_parser(
        "adapt-brand", help="train a brand's model from its agents' stored corrections and publish it to S3",
        description="Reads the brand's corrections from DynamoDB (TABLE_NAME, AWS_ENDPOINT_URL), trains the "
                    "base data plus them, uploads the model to MODEL_BUCKET and points the brand at it; "
                    "ingest workers pick it up within five minutes.")
    b.add_argument("brand")
    b.set_defaults(func=cmd_adapt_brand)
    return parser


def cmd_adapt_brand(args: argparse.Namespace, out: TextIO) -> int:
    from chalicelib import aws
    from chalicelib.classify import registry
    from chalicelib.config import settings
    from chalicelib.store.dynamodb import DynamoStore

    if not settings().model_bucket:
        print("adapt-brand: MODEL_BUCKET is not set", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        result = registry.adapt_brand(args.brand, DynamoStore(aws.table()), aws.client("s3"), settings().model_bucket)
    except ValueError as err:
        print(f"adapt-brand: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out.write(json.dumps(result) + "\n")
    return EXIT_OK


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    if out is None:
        out = sys.stdout
        if hasattr(out, "reconfigure"):  # JSON lines are UTF-8 whatever the locale says
            out.reconfigure(encoding="utf-8")
    try:
        return args.func(args, out)
    except BrokenPipeError:  # `... | head`: the reader has gone, not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
