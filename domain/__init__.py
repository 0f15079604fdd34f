"""Values every layer reasons about (accounts, sessions); they import nothing of the service's own."""
