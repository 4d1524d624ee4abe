"""Authentication: password hashing, signed tokens, users, first-boot setup, throttling."""
