"""Text-to-911 sessions and messages (built in the text-to-911 capability)."""
