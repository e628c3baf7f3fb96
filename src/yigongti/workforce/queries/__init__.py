"""Scoped reads of the app: each function takes the acting user (or Actor) and returns only what they may see."""
