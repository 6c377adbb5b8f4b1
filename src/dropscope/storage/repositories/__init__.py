"""Repositories: all SQL lives here. Each takes a `Session`, returns domain objects (never
ORM rows) and never commits; the service layer owns the unit of work."""
