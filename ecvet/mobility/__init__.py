"""Mobilities: nomination, the Learning Agreement, assessment, transcript, validation and recognition."""
