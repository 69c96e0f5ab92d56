"""Stateful Ray actors. Each is a plain class made remote in `actors.registry`."""
