"""Staff-facing side: the handoff queue, routing to a named advocate, the advocate inbox and the chair's view."""
