"""Response and request schemas, one module per resource, each with examples."""
