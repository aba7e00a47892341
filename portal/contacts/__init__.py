"""Contact log and follow-ups: who spoke with an account, and what is owed to it."""
