"""Pydantic output documents (units in every field description, a provenance block in each)."""
