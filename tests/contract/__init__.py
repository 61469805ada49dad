"""Contract tests: one suite per store port, run against the DynamoDB implementation (under moto) and the in-memory twin."""
