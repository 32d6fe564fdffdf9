from .audit import AuditEntry
from .automation import AutomationChange, AutomationRule, AutomationRun
from .calendar import CalendarAttendance, CalendarLeave, WorkingCalendar
from .clock import TicketClock, TicketStageChange
from .display import WallDisplay
from .escalation import EndReason, Escalation, EscalationEvent, Trigger
from .history import TicketAssigneeChange
from .hook import OdooHook
from .mirror import ODOO_SUPERUSER_ID, Agent, Customer, SlaStatus, Stage, SyncState, Tag, Team, Ticket
from .notice import Notice
from .outbox import OdooAction
from .policy import EscalationLevel, EscalationPolicy, Profile
from .report import ReportFact, ReportRollup

__all__ = [
    "Agent", "AuditEntry", "AutomationChange", "AutomationRule", "AutomationRun",
    "CalendarAttendance", "CalendarLeave", "Customer", "EndReason", "Escalation",
    "EscalationEvent", "EscalationLevel", "EscalationPolicy", "Notice", "OdooAction", "OdooHook", "Profile",
    "ReportFact",
    "ReportRollup", "SlaStatus",
    "Stage", "SyncState", "Tag", "Team", "Ticket", "TicketAssigneeChange", "TicketClock", "TicketStageChange",
    "Trigger",
    "WallDisplay", "WorkingCalendar", "ODOO_SUPERUSER_ID",
]
