"""A local StackOne stand-in for `make run` and the end-to-end tests: same endpoints, same rules, in memory."""
