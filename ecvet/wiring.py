"""Import every module that registers task actions, connectors and deploy or start checks, so the app
and the worker agree.

A BPMN task names its action (``recordAction``) or connector (``operatorId``) by string, a process its
start check (``startCheck``); the registrations happen at import time. The API app factory and
``ecvet worker`` both call :func:`load`, so a process behaves the same whether a request or the worker
advances it.
"""
from __future__ import annotations

import importlib

MODULES = (
    "ecvet.national_models.checks",  # deploy-time check of national_models.dmn (engine.deployments.FILE_CHECKS)
    # start checks the processes name (startCheck; engine.instances.START_CHECKS): who may start them
    "ecvet.partnership.service",  # partnership.partners
    "ecvet.mobility.nomination",  # mobility.nominated
    "ecvet.review.service",  # review.of_mobility
    # task actions and connectors the processes name (recordAction, operatorId)
    "ecvet.partnership.workflow",  # partnership.* actions, mou.implicit_approval and mou.expire connectors
    "ecvet.mobility.workflow",  # mobility.* actions, mobility.go_live/start_missed/la_implicit_approval connectors
    "ecvet.review.workflow",  # review.* actions, review.revision_done connector
    # sweeps the worker runs on a schedule (engine.periodic)
    "ecvet.consent.guardianship",  # guardian.access_ends: a guardian's access ends at the 18th birthday
    "ecvet.retention.purge",  # retention.purge, daily
)


def load() -> None:
    """Import every registering module (idempotent: Python imports each once)."""
    for name in MODULES:
        importlib.import_module(name)
