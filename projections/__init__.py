"""Read models built from the events: the live licence and department worklists."""
