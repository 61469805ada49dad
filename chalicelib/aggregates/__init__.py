"""The desk's aggregates as typed models, each built in one place; the store ports take and return
them (chalicelib/store/ports.py). Foundation layer: imports pydantic and nothing of the desk."""
