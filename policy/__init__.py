"""The account rules: decide create, update or multiple before StackOne is called (plain Python, no HTTP)."""

from policy.decide import decide
from policy.types import AccountLookup, Action, Decision, SessionRequest

__all__ = ["AccountLookup", "Action", "Decision", "SessionRequest", "decide"]
