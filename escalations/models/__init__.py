from .mirror import Agent, Customer, SlaStatus, Stage, SyncState, Tag, Team, Ticket

__all__ = ["Agent", "Customer", "SlaStatus", "Stage", "SyncState", "Tag", "Team", "Ticket"]
