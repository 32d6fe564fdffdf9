from .calendar import CalendarAttendance, CalendarLeave, WorkingCalendar
from .clock import TicketClock, TicketStageChange
from .escalation import EndReason, Escalation, EscalationEvent, Trigger
from .mirror import Agent, Customer, SlaStatus, Stage, SyncState, Tag, Team, Ticket
from .policy import EscalationLevel, EscalationPolicy, Profile

__all__ = [
    "Agent", "CalendarAttendance", "CalendarLeave", "Customer", "EndReason", "Escalation",
    "EscalationEvent", "EscalationLevel", "EscalationPolicy", "Profile", "SlaStatus", "Stage",
    "SyncState", "Tag", "Team", "Ticket", "TicketClock", "TicketStageChange", "Trigger",
    "WorkingCalendar",
]
