"""Reviews of mobilities: evaluation sheets, action plans, MoU revision requests."""
