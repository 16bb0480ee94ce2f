"""Import every module that registers task actions or connectors, so the app and the worker agree.

A BPMN task names its action (``recordAction``) or connector (``operatorId``) by string; the
registrations happen at import time. The API app factory and ``ecvet worker`` both call :func:`load`,
so a process behaves the same whether a request or the worker advances it.
"""
from __future__ import annotations

import importlib

MODULES = (
    "records.national_models",  # deploy-time check of national_models.dmn (engine.deployments.FILE_CHECKS)
    # start checks the processes name (startCheck; engine.instances.START_CHECKS): who may start them
    "records.partnerships",  # partnership.partners
    "records.mobility",  # mobility.nominated
    "records.review",  # review.of_mobility
    "records.actions",  # mou.* task actions
    "records.la_actions",  # la.* task actions
    "records.partnership_connectors",  # partnership.* actions, mou.implicit_approval and mou.expire connectors
    "records.review_actions",  # review.* task actions, review.revision_done connector (processes/review.bpmn)
    "records.mobility_actions",  # mobility.* task actions (processes/mobility.bpmn)
    "records.mobility_connectors",  # mobility.go_live, mobility.la_implicit_approval connectors
)


def load() -> None:
    for name in MODULES:
        importlib.import_module(name)
