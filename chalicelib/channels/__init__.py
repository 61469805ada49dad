"""One module per platform: how to verify what it sends, and how to turn it into Mentions.

Each webhook adapter exposes:
    verify(raw_body: bytes, signature_header: str | None, secret: str) -> None
        raises errors.InvalidSignature; compares in constant time over the raw bytes.
    parse(payload: dict) -> models.ParseResult
        raises errors.UnknownPayload(reason) when the body's shape is not one it knows;
        events it knows but that are not customer mentions (the brand's own posts, echoes,
        likes, ...) are counted in ParseResult.ignored.
Modules import pydantic, the standard library, chalicelib.models and chalicelib.errors only.
"""
