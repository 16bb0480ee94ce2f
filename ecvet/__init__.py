"""Domain records of ECVET partnerships: competences, qualifications and units, MoUs and their approvals.

Documents that people sign live here, in their own tables, rather than inside process data: a BPMN
process only carries their ids and hashes (see :mod:`records.actions`). This package uses the engine
(models, audit, errors, deployments) and never Flask; the API reaches it through ``api/records.py``.
"""
