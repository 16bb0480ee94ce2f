"""Qualifications of national VET systems: units and learning outcomes."""
