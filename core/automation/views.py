"""What the faces of the recurring rules read: a page of rules with their projects, one rule by id.

The rules themselves (adding, editing, their cadence) are core.automation.rules; this module only reads,
so that a screen can list rules without importing the models.
"""

from __future__ import annotations

from peewee import JOIN

from core.automation.rules import rules_query
from core.store.models import Client, Project, RecurringRule


def rules_page(offset: int, limit: int) -> list[RecurringRule]:
    """One page of the rules in the order ``rules_query`` gives (name, then id), each with its project
    and the project's client read in the same query (a list shows the project of every rule)."""
    query = (
        rules_query()
        .select_extend(Project, Client)
        .join(Project, JOIN.LEFT_OUTER)
        .join(Client, JOIN.LEFT_OUTER)
        .limit(limit)
        .offset(offset)
    )
    return list(query)


def get_rule(rule_id: int) -> RecurringRule | None:
    """The rule with this id, or None (deleted meanwhile, by the command line or another screen)."""
    return RecurringRule.get_or_none(RecurringRule.id == rule_id)
