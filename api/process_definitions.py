"""/api/process-definitions: deploy bundles (admin) and read versions, files and diagrams."""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from engine import deployments
from engine.errors import Invalid

from .deps import authenticated, settings
from .parsing import Blueprint, Id
from .schemas import PageArgs, page_schema

blp = Blueprint(
    "process_definitions", __name__, url_prefix="/api/process-definitions",
    description="Deployed BPMN processes, one version per distinct content",
)


class DeployWarning(Schema):
    file = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    message = fields.String()
    line = fields.Integer(allow_none=True)


class DefinitionSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    content_hash = fields.String()
    roles = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "role key -> lane name; bind each in parties"})
    files = fields.List(fields.String(), metadata={"description": "files this version consists of"})
    warnings = fields.List(fields.Nested(DeployWarning), metadata={
        "description": "what deployed but the process owner should read: schema slips tolerated, "
                       "Camunda expressions translated (with the Python they became), attributes not honoured"})
    created_at = fields.DateTime()
    created = fields.Boolean(metadata={"description": "false when identical content was already deployed"})


class DecisionSchema(Schema):
    key = fields.String(metadata={"description": "the decision id: POST /api/decisions/{key}/evaluate"})
    version = fields.Integer()
    filename = fields.String()
    created = fields.Boolean(metadata={"description": "false when identical content was already deployed"})


class DeployResult(Schema):
    definitions = fields.List(fields.Nested(DefinitionSchema))
    decisions = fields.List(fields.Nested(DecisionSchema),
                            metadata={"description": "every DMN decision of the bundle (a bundle may hold only these)"})


class DeployFiles(Schema):
    files = fields.List(Upload(), metadata={"description": "BPMN, DMN and JSON Schema form files"})


class DefinitionListArgs(PageArgs):
    key = fields.String(load_default=None)


def _as_item(definition: Any, created: bool | None = None) -> dict[str, Any]:
    item = deployments.as_summary(definition)
    item["files"] = [f.filename for f in definition.files]
    if created is not None:
        item["created"] = created
    return item


@blp.route("", methods=["POST"])
@blp.arguments(DeployFiles, location="files")
@blp.response(201, DeployResult)
@blp.alt_response(200, schema=DeployResult, description="Identical content: the existing versions")
def deploy(_files: dict[str, Any]) -> Any:
    uploads = request.files.getlist("files[]") + request.files.getlist("files")
    if not uploads:
        raise Invalid("Send the bundle as multipart form field 'files[]' (one or more files)",
                      errors={"files": ["No files were sent"]})
    bundle: dict[str, bytes] = {}
    for upload in uploads:
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name or name in bundle:
            raise Invalid("Every file needs a distinct name", errors={"files": [f"bad or duplicate name '{name}'"]})
        bundle[name] = upload.read()
    cfg = settings()
    with authenticated() as (session, actor):
        decisions: list[deployments.DeployedDecision] = []
        results = deployments.deploy(session, actor=actor, files=bundle, forms_dir=cfg.forms_dir,
                                     max_bundle_bytes=cfg.max_bundle_bytes, decisions=decisions)
        body = {"definitions": [_as_item(r.definition, r.created) for r in results],
                "decisions": [{"key": d.decision.key, "version": d.decision.version, "filename": d.decision.filename,
                               "created": d.created} for d in decisions]}
        status = 201 if any(r.created for r in results) or any(d.created for d in decisions) else 200
    return body, status


@blp.route("", methods=["GET"])
@blp.arguments(DefinitionListArgs, location="query")
@blp.response(200, page_schema(DefinitionSchema, "DefinitionPage"))
def list_(args: dict[str, Any]) -> Any:
    with authenticated(write=False) as (session, _actor):
        page = deployments.list_definitions(session, key=args["key"], cursor=args["cursor"], limit=args["limit"])
        return {"items": [_as_item(d) for d in page.items], "next_cursor": page.next_cursor}


class VersionArgs(Schema):
    version = Id(load_default=None)


class DefinitionDetail(DefinitionSchema):
    user_tasks = fields.List(fields.Dict())
    instance_counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                                  metadata={"description": "version -> number of instances"})


@blp.route("/<key>", methods=["GET"])
@blp.arguments(VersionArgs, location="query")
@blp.response(200, DefinitionDetail)
def get(args: dict[str, Any], key: str) -> Any:
    """The latest version (or ?version=n), with the instances per version."""
    with authenticated(write=False) as (session, _actor):
        definition = deployments.get_definition(session, key=key, version=args["version"])
        item = _as_item(definition)
        item["user_tasks"] = definition.user_tasks
        item["instance_counts"] = {str(k): v for k, v in deployments.instance_counts(session, key=key).items()}
        return item


@blp.route("/<key>/versions/<id:version>/files/<path:filename>", methods=["GET"])
@blp.response(200)
def file(key: str, version: int, filename: str) -> Response:
    """A deployed file as it was deployed (BPMN for the diagram viewer, DMN, forms)."""
    with authenticated(write=False) as (session, _actor):
        definition = deployments.get_definition(session, key=key, version=version)
        content = deployments.definition_file(session, definition, filename)
    mimetype = "application/json" if filename.endswith(".json") else "application/xml"
    return Response(content, mimetype=mimetype)
