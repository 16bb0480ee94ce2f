"""The learner's right of access (GDPR art. 15 and 20): who read their personal data, and everything held about
them as one export (JSON and PDF)."""
