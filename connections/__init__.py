"""Connections kept healthy without anyone watching: each account's last known state, applied in order; signed events
to the customer's app (Standard Webhooks) with a reconnect link when one breaks; reconciliation; offboarding."""
