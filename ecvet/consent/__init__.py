"""Consent and information (issue 16): the privacy notice and its acknowledgements, and the end of a
guardian's access at the learner's 18th birthday."""
