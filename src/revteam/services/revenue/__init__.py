"""Deals on their way to revenue: pipeline stage history and the content reps used in deals."""
