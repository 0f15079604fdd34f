"""Example apps that use the service as our users do."""
