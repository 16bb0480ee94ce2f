"""Data protection of learners: the catalogue of personal data (holdings) and erasure requests."""
