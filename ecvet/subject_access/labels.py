"""The words the export PDF prints for a column: ``date_of_birth`` -> "Date of birth". The English labels are
msgids of the documents' catalogue (``ecvet/locale/<language>/LC_MESSAGES/documents.po``), so a label is
printed in the reader's language; a column without one is written as words (never a code with underscores).
"""
from __future__ import annotations

#: Column name -> English label, for (at least) every column of the tables of the PDF's named parts.
LABELS: dict[str, str] = {
    "acknowledged_at": "Acknowledged at", "acknowledged_by": "Acknowledged by", "agrees": "Agrees",
    "assessed_on": "Assessed on", "assessment_id": "Assessment", "assessor_name": "Assessor's name",
    "assessor_organisation": "Assessor's organisation", "assessor_role": "Assessor's role",
    "attachment_id": "Attachment", "awarded_at": "Awarded at",
    "awarded_by_organisation_id": "Awarding organisation", "cancel_reason": "Reason for cancelling",
    "changed_at": "Changed at", "changed_by": "Changed by", "changes": "Changes", "comment": "Comment",
    "comments": "Comments", "competent_institution_home_id": "Competent institution at home",
    "competent_institution_host_id": "Competent institution at the host", "content": "Content",
    "content_hash": "SHA-256 of the content", "context": "Context", "created_at": "Created at",
    "created_by": "Created by", "credit_award_ids": "Credit awards", "criteria": "Criteria",
    "current_version_id": "Current version", "date_of_birth": "Date of birth", "decided_at": "Decided at",
    "deleted_at": "Deleted at", "description": "Description", "ecvet_points": "ECVET points", "email": "E-mail",
    "end_date": "End date", "eqf_level": "EQF level", "europass_id": "Europass Mobility",
    "european_student_identifier": "European Student Identifier", "evidence": "Evidence",
    "expires_at": "Expires at", "grade": "Grade", "group_id": "Group", "guardian_email": "Guardian's e-mail",
    "guardian_name": "Guardian's name", "guardian_user_id": "Guardian's account",
    "hosting_organisation_id": "Hosting organisation", "id": "Record number",
    "intermediary_organisation_id": "Intermediary organisation", "is_active": "Active",
    "is_admin": "Administrator", "issued_at": "Issued at", "issued_by": "Issued by", "kind": "Kind",
    "la_hash": "SHA-256 of the Learning Agreement", "la_id": "Learning Agreement",
    "la_version_id": "Learning Agreement version", "la_version_number": "Version number",
    "language": "Language", "learner_id": "Learner", "learning_outcome": "Learning outcome",
    "merged_with_recognition": "Merged with the recognition", "merged_with_validation": "Merged with the validation",
    "method": "Method", "mobility_id": "Mobility", "mobility_ids": "Mobilities", "mode": "Mode",
    "mou_id": "Memorandum of Understanding", "name": "Name", "national_model": "National model",
    "new_status": "New status", "nqf_level": "NQF level", "number": "Number", "old_status": "Previous status",
    "organisation_id": "Organisation", "outcome": "Outcome", "outcome_results": "Results per outcome",
    "overall_comment": "Overall comment", "party": "Party", "place": "Place", "position": "Position",
    "prefix": "Prefix", "process_instance_id": "Process", "qualification_eqf_level": "EQF level of the qualification",
    "qualification_id": "Qualification", "qualification_title": "Title of the qualification",
    "ready_for_recognition_at": "Ready for recognition at", "ready_marked_by": "Marked ready by",
    "reason": "Reason", "recognised_by": "Recognised by", "recognition_id": "Recognition",
    "recorded_at": "Recorded at", "recorded_by": "Recorded by", "result": "Result", "revoked_at": "Revoked at",
    "sector": "Sector", "sending_organisation_id": "Sending organisation", "signed_at": "Signed at",
    "signer_email": "Signer's e-mail", "signer_name": "Signer's name", "signer_place": "Signer's place",
    "signer_position": "Signer's position", "signer_user_id": "Signer's account", "start_date": "Start date",
    "status": "Status", "supersedes_id": "Replaces", "transcript_hash": "SHA-256 of the transcript",
    "transcript_id": "Transcript", "unit_code": "Unit code", "unit_codes": "Unit codes", "unit_title": "Unit title",
    "units": "Units", "updated_at": "Updated at", "uploaded_at": "Uploaded at", "uploaded_by": "Uploaded by",
    "user_id": "Account",
}


def label(column: str) -> str:
    """The English words for `column`: its label, else its name as words (``la_hash`` -> "La hash")."""
    return LABELS.get(column) or column.replace("_", " ").strip().capitalize() or column
