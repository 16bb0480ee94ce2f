"""Script isolation: evaluator processes with hard bounds, the wire format, guards, bounded expressions.

Kept free of imports: an evaluator process imports engine.sandbox.child and what it needs, nothing else.
"""
