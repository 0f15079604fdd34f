"""Who is calling: the account owner resolved from the caller's login, never from the request body."""
