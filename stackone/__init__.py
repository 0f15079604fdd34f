"""Everything that talks to StackOne: one client, its errors, and the account values it returns."""
