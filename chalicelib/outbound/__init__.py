"""Agents' replies, from the API to the platform: policy ▸ replies ▸ worker ▸ clients, and receipts."""
