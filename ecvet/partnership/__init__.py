"""Partnerships: partner profiles, role maps, attachments, and the MoU with its approvals."""
