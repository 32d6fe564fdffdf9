"""The escalation engine: set-based evaluation of the triggers, and what people do to escalations."""

from .evaluate import EvaluationResult, evaluate_escalations
from .lifecycle import (
    EscalationAlreadyOpen,
    EscalationChanged,
    EscalationError,
    escalation_accept,
    escalation_deescalate,
    escalation_move,
    escalation_raise_manual,
    escalation_undo_accept,
)

__all__ = [
    "EscalationAlreadyOpen", "EscalationChanged", "EscalationError", "EvaluationResult",
    "escalation_accept", "escalation_deescalate", "escalation_move", "escalation_raise_manual",
    "escalation_undo_accept", "evaluate_escalations",
]
