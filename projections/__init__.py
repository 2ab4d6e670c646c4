"""Read models built from the events: the live licence, its credit listings and department worklists."""
