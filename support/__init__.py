"""What the tests and the bench share: starting and stopping processes on loopback, logins, StackOne-shaped answers."""
