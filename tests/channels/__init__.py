"""Channel packages that live in the tests: proof that a channel is its package plus one line of
registration (see "How to add a channel" in docs/ARCHITECTURE.md)."""
