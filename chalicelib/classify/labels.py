"""The label sets a classifier may answer with. Data only, no imports."""

TOPICS: tuple[str, ...] = ("order", "delivery", "refund", "billing", "account", "technical",
                           "product_question", "service_complaint", "praise", "other")
URGENCY_FLAGS: tuple[str, ...] = ("outage", "safety", "legal", "churn", "urgent",
                                  "repeated_contact")
